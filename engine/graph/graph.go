package graph

import (
	"fmt"
	"strings"
	"time"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/schema"
)

// Graph is a loaded, type-checked ResourceGraph.
type Graph struct {
	Name string
	File string
	// Instance is the kind the graph expands (an MCPServer).
	Instance *schema.Kind
	// Config declares the operator configuration, the `config` variable.
	Config []parse.ConfigKey
	// Vars in evaluation order: every var after the vars it reads.
	Vars []*Var
	// Checks the instance must pass before anything renders.
	Checks []*Check
	// Nodes in dependency order, declaration order breaking ties.
	Nodes []*Node
	// Reads are the resources that read objects the graph does not apply, in file order.
	Reads []*Read
	// Status computes the instance's status; nil when the graph has none.
	Status *Tree
	// Schemas typed the graph; the controller uses them for apply comparisons.
	Schemas *schema.Set
	// CostBudget bounds the CEL cost of one render plus its status evaluation.
	CostBudget uint64
	// RenderTimeout bounds the time of one render, and of its status evaluation.
	RenderTimeout time.Duration

	vars map[string]*Var
}

// Var returns the var with the given name.
func (g *Graph) Var(name string) (*Var, bool) {
	v, ok := g.vars[name]
	return v, ok
}

// Var is one compiled named value.
type Var struct {
	Name  string
	Value *Tree
	// Status marks a status var: it reads ready.<id>, errors, allReady or anyReady
	// (directly or through another status var), so only status and other status vars may
	// read it, and it is computed in the status phase.
	Status bool
}

// Check is one compiled rule on the instance. Field and Message are strings (Static trees)
// or string templates; Field is nil when the check names no field.
type Check struct {
	// ForEach, when set, yields the items the check is made for, `each` in the rest.
	ForEach *Expr
	Rule    *Expr
	Field   *Tree
	Message *Tree
}

// Node is one compiled resource.
type Node struct {
	ID   string
	Kind *schema.Kind
	// Shared objects are one per namespace for every instance that renders them (parse.Resource).
	Shared bool
	// Recreate: an immutable-field refusal may be met by deleting and creating the object
	// again (parse.Resource).
	Recreate bool
	// Deps are the ids whose observed objects this node's template or includeWhen read.
	Deps []string
	// Index is the node's position in the file.
	Index int
	// ForEach, for a collection, yields the list of items, one object each (collection.go);
	// MaxItems bounds how many.
	ForEach     *Expr
	MaxItems    int
	IncludeWhen []*Expr
	ReadyWhen   []*Expr
	Template    *Tree
	// IgnoreReadiness leaves the node out of allReady and anyReady (parse.Resource).
	IgnoreReadiness bool
}

// Expr is one compiled expression and where it came from.
type Expr struct {
	*cel.Program
	Pos   parse.Pos
	Owner string // "resource deployment", "vars.image", "status", "checks[0]"
	Path  string // the field the expression sets, within its owner
	// Objects are the resource ids it reads: Refs without vars and built-ins, sorted out
	// once, at load, since a render consults them at every evaluation. (Vars are computed
	// as an expression reads them; render needs no list of them.)
	Objects []string
}

func newExpr(prg *cel.Program, pos parse.Pos, owner, path string) *Expr {
	e := &Expr{Program: prg, Pos: pos, Owner: owner, Path: path}
	for _, ref := range prg.Refs {
		if !strings.HasPrefix(ref, parse.NameVars+".") && !parse.IsBuiltin(ref) {
			e.Objects = append(e.Objects, ref)
		}
	}
	return e
}

// Tree is a compiled template value.
type Tree struct {
	Kind parse.ValueKind
	// Static is set when nothing below needs evaluation; Value then holds the whole
	// JSON value.
	Static bool
	Value  any
	Expr   *Expr  // parse.Expr
	Parts  []Part // parse.Template
	Keys   []string
	Fields []*Tree // parse.Map, parallel to Keys
	Items  []*Tree // parse.List
}

// Part is one piece of a string template.
type Part struct {
	Lit  string
	Expr *Expr
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (*Node, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return nil, false
}

// Error is a problem in a graph that a person must fix: where it is, which resource or var,
// which field, the expression, and what is wrong.
type Error struct {
	Pos   parse.Pos
	Owner string
	Path  string
	Expr  string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.Pos)
	if e.Owner != "" {
		b.WriteString(e.Owner)
		if e.Path != "" {
			b.WriteString(", field " + e.Path)
		}
		b.WriteString(": ")
	} else if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	if e.Expr != "" {
		b.WriteString("\n    in ${" + e.Expr + "}")
	}
	return b.String()
}

// Errors is every problem found while loading one graph.
type Errors []error

func (l Errors) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

func (l Errors) Unwrap() []error { return l }

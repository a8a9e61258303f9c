package parse

import "fmt"

// Pos is a place in a graph file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// ValueKind says what a template node is.
type ValueKind int

const (
	Literal  ValueKind = iota // a scalar written as is: string, int64, float64, bool or nil
	Expr                      // the whole value is one ${...}: it takes the expression's type
	Template                  // a string with ${...} parts: always a string
	Map
	List
)

// Value is one node of a template tree as written.
type Value struct {
	Pos  Pos
	Kind ValueKind

	Scalar any      // Literal
	Source *Source  // Expr
	Parts  []Part   // Template
	Fields []Field  // Map, in document order
	Items  []*Value // List
}

// Field is one key of a map node.
type Field struct {
	Key   string
	Pos   Pos
	Value *Value
}

// Part is a piece of a string template: literal text or an expression.
type Part struct {
	Lit    string
	Source *Source
}

// Source is the text of one expression and where it starts.
type Source struct {
	Text string
	Pos  Pos
}

// Graph is a parsed ResourceGraph.
type Graph struct {
	File      string
	Name      string
	Instance  TypeRef
	Config    []ConfigKey
	Functions []Function
	Vars      []Var
	Checks    []Check
	Resources []Resource
	Status    *Value // a Map, or nil
}

// TypeRef names a kind.
type TypeRef struct {
	APIVersion string
	Kind       string
	Pos        Pos
}

// ConfigKey declares one key of the operator configuration, the `config` variable.
type ConfigKey struct {
	Name        string
	Type        string   // string, boolean or integer
	Default     any      // of Type; the zero value when not given
	Env         string   // the operator's environment variable that sets it, if any
	Enum        []string // for a string: the only values allowed, if given
	Description string
	Pos         Pos
}

// Function is a helper of the graph's expressions: a call Name(args) in an expression
// stands for Body with each of Params replaced by its argument.
type Function struct {
	Name   string
	Params []string
	Body   *Source
	Pos    Pos
}

// Var is one named value, vars.<Name> in expressions.
type Var struct {
	Name  string
	Pos   Pos
	Value *Value
}

// Check is a rule the instance must satisfy before anything is rendered. When Rule is
// false, rendering yields no objects and Message names the Field to fix. With ForEach, one
// ${...} expression yielding a list, the check is made once per item, the item `each` in
// Rule, Field and Message.
type Check struct {
	ForEach *Value // an Expr, or nil
	Rule    *Value // an Expr
	Field   *Value // a string or a string template; nil when not given
	Message *Value // a string or a string template
	Pos     Pos
}

// Resource is one node of the graph: a template for one object.
type Resource struct {
	ID  string
	Pos Pos
	// Shared marks an object that every instance in a namespace renders the same (a
	// ServiceAccount they all run as): applied once and owned by one instance; when that
	// one goes, another renders it again.
	Shared bool
	// Recreate allows the controller to delete and create the object again when the API
	// server refuses a change as immutable (a Deployment's selector); without it, such a
	// change is an error that names the field.
	Recreate bool
	// ForEach, one ${...} expression yielding a list, makes the resource a collection: one
	// object per item, the item in scope in the template as `each`.
	ForEach *Value
	// MaxItems bounds a collection's items (0: the engine's default).
	MaxItems    int64
	IncludeWhen []*Value // each an Expr
	ReadyWhen   []*Value // each an Expr
	Template    *Value   // a Map
	// Read, instead of Template, makes the resource read objects the graph does not apply.
	Read *Read
	// IgnoreReadiness leaves the resource out of allReady and anyReady: the instance does
	// not wait for it. ready.<id> still says whether it is ready.
	IgnoreReadiness bool
}

// Error is a problem a person must fix in a graph file.
type Error struct {
	Pos  Pos
	Path string // where in the document, e.g. spec.resources[deployment].template.spec.replicas
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Path, e.Msg)
}

// ErrorList is every error found in one file, in document order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := ""
	for i, e := range l {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

package graph

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/cel-go/common/types"
	apiservercel "k8s.io/apiserver/pkg/cel"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/schema"
)

// DefaultMaxReadItems bounds a collection read that sets no maxItems. A render that would
// see more items fails, naming the read and the limit, rather than grow without bound.
const DefaultMaxReadItems = 5000

// ItemVar is the variable a read's filter and instanceKey see: one item of the collection.
const ItemVar = parse.NameItem

// Read is one compiled read: objects the graph observes but never applies, owns or prunes.
// In expressions a read by name is the observed object; a collection is the list of the
// selected items, sorted by namespace, then name.
type Read struct {
	ID   string
	Kind *schema.Kind
	// Name is the object's name for a read by name; nil for a collection.
	Name *Tree
	// Namespace: "" is the instance's namespace, parse.AllNamespaces every namespace,
	// anything else that namespace. Unused for cluster-scoped kinds.
	Namespace   string
	MatchLabels map[string]string
	// Filter keeps the items for which it is true; it sees item, schema, config and vars.
	Filter *Expr
	// InstanceKey yields, from an item alone, the key ("namespace/name") or keys of the
	// instances that read it. The controller indexes the cache with it, and a render keeps
	// only the items whose keys include the instance's.
	InstanceKey *Expr
	MaxItems    int
	IncludeWhen []*Expr
}

// Collection reports whether the read is a list of items rather than one object.
func (r *Read) Collection() bool { return r.Name == nil }

// Read returns the read with the given id.
func (g *Graph) Read(id string) (*Read, bool) {
	for _, r := range g.Reads {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// InstanceKey is the key a read's instanceKey yields for the instance namespace/name.
func InstanceKey(namespace, name string) string { return namespace + "/" + name }

// splitReads takes the resources that read out of pg.Resources: they are typed and
// compiled apart from the templates, and are not nodes of the apply order.
func splitReads(pg *parse.Graph) []parse.Resource {
	var reads, templates []parse.Resource
	for _, r := range pg.Resources {
		if r.Read != nil {
			reads = append(reads, r)
		} else {
			templates = append(templates, r)
		}
	}
	pg.Resources = templates
	return reads
}

// readKinds types the reads and declares them in the environment: a read by name as its
// kind, a collection as a list of it.
func (l *loader) readKinds(declTypes []*apiservercel.DeclType, vars []cel.Variable, seen map[*apiservercel.DeclType]bool, instanceNamespaced bool) ([]*apiservercel.DeclType, []cel.Variable) {
	l.readIDs = map[string]*schema.Kind{}
	for _, r := range l.readRes {
		owner := "resource " + r.ID
		k, err := l.kind(r.Read.APIVersion, r.Read.Kind)
		if err != nil {
			l.errorf(r.Read.Pos, owner, "read", "", "%v", err)
			continue
		}
		if !k.Namespaced && r.Read.Namespace != "" {
			l.errorf(r.Read.Pos, owner, "read.namespace", "", "%s is cluster-scoped: remove namespace", r.Read.Kind)
		}
		if k.Namespaced && !instanceNamespaced && r.Read.Namespace == "" {
			l.errorf(r.Read.Pos, owner, "read.namespace", "", "the instance is cluster-scoped: name a namespace, or %q", parse.AllNamespaces)
		}
		l.readIDs[r.ID] = k
		if !seen[k.Type] {
			seen[k.Type] = true
			declTypes = append(declTypes, k.Type)
		}
		t := k.Type.CelType()
		if r.Read.Name == nil {
			t = types.NewListType(t)
		}
		vars = append(vars, cel.Variable{Name: r.ID, Type: t})
	}
	return declTypes, vars
}

// reads compiles the reads once the environment holds the vars, and records which reads
// each var needs, directly or through other vars.
func (l *loader) reads(env *cel.Env, g *Graph) []*Read {
	l.varReads = map[string][]string{}
	for _, v := range g.Vars {
		need := map[string]bool{}
		for _, e := range exprs(v.Value) {
			for _, ref := range e.Refs {
				if l.readIDs[ref] != nil {
					need[ref] = true
				}
				if name, ok := strings.CutPrefix(ref, "vars."); ok {
					for _, r := range l.varReads[name] {
						need[r] = true
					}
				}
			}
		}
		l.varReads[v.Name] = slices.Sorted(maps.Keys(need))
	}
	var out []*Read
	for _, r := range l.readRes {
		k := l.readIDs[r.ID]
		if k == nil {
			continue
		}
		out = append(out, l.read(env, r, k))
	}
	return out
}

func (l *loader) read(env *cel.Env, r parse.Resource, k *schema.Kind) *Read {
	owner := "resource " + r.ID
	rd := &Read{ID: r.ID, Kind: k, Namespace: r.Read.Namespace, MatchLabels: r.Read.MatchLabels, MaxItems: int(r.Read.MaxItems)}
	if rd.MaxItems == 0 {
		rd.MaxItems = DefaultMaxReadItems
	}
	for i, v := range r.IncludeWhen {
		if e := l.boolExpr(env, v, owner, fmt.Sprintf("includeWhen[%d]", i)); e != nil {
			l.readsNoObjects(e, "includeWhen of a read")
			rd.IncludeWhen = append(rd.IncludeWhen, e)
		}
	}
	if r.Read.Name != nil {
		rd.Name = l.tree(env, r.Read.Name, apiservercel.StringType, owner, "read.name")
		for _, e := range exprs(rd.Name) {
			l.readsNoObjects(e, "a read's name")
		}
		return rd
	}
	if r.Read.Filter != nil {
		fenv, err := env.Extend(cel.Variable{Name: ItemVar, Type: k.Type.CelType()})
		if err != nil {
			l.errorf(r.Read.Filter.Pos, owner, "read.filter", "", "%v", err)
		} else if e := l.boolExpr(fenv, r.Read.Filter, owner, "read.filter"); e != nil {
			l.readsNoObjects(e, "a read's filter")
			rd.Filter = e
		}
	}
	if r.Read.InstanceKey != nil {
		rd.InstanceKey = l.instanceKey(r.Read.InstanceKey, k, owner)
	}
	return rd
}

// instanceKey compiles a read's instanceKey in an environment that holds only item: the
// controller evaluates it on cache events, with no instance at hand.
func (l *loader) instanceKey(v *parse.Value, k *schema.Kind, owner string) *Expr {
	kenv, err := cel.NewEnv([]*apiservercel.DeclType{k.Type}, []cel.Variable{{Name: ItemVar, Type: k.Type.CelType()}}, l.costLimit)
	if err != nil {
		l.errorf(v.Pos, owner, "read.instanceKey", "", "%v", err)
		return nil
	}
	prg, err := kenv.Compile(v.Source.Text)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "undeclared reference") {
			msg += "\n    (instanceKey sees only item: the controller evaluates it on the item alone)"
		}
		l.errorf(v.Source.Pos, owner, "read.instanceKey", v.Source.Text, "%s", msg)
		return nil
	}
	e := newExpr(prg, v.Source.Pos, owner, "read.instanceKey")
	t := e.Type
	ok := isDyn(t) || t.Kind() == types.StringKind ||
		(t.Kind() == types.ListKind && (isDyn(t.Parameters()[0]) || t.Parameters()[0].Kind() == types.StringKind))
	if !ok {
		l.errorf(e.Pos, owner, e.Path, e.Source, "expected a string (namespace/name of the instance) or a list of strings, got %s", typeString(t))
		return nil
	}
	return e
}

// readsNoObjects refuses, in an expression of a read, references to observed objects and
// to reads: a read is resolved before anything renders.
func (l *loader) readsNoObjects(e *Expr, what string) {
	for _, ref := range e.Refs {
		name, isVar := strings.CutPrefix(ref, "vars.")
		switch {
		case l.ids[ref] || l.readIDs[ref] != nil:
			l.errorf(e.Pos, e.Owner, e.Path, e.Source, "reads %q: %s may read schema, config and vars only", ref, what)
		case isVar && len(l.varReads[name]) > 0:
			l.errorf(e.Pos, e.Owner, e.Path, e.Source, "reads vars.%s, which reads %s: %s may not depend on a read", name, strings.Join(l.varReads[name], ", "), what)
		}
	}
}

// noNamedReads refuses, in a check, reads by name (directly or through vars): checks run
// before anything renders, and an object not there yet would fail the instance.
func (l *loader) noNamedReads(e *Expr) {
	for _, ref := range e.Refs {
		if k := l.readIDs[ref]; k != nil {
			if rd := l.readRes[l.readIndex(ref)]; rd.Read.Name != nil {
				l.errorf(e.Pos, e.Owner, e.Path, e.Source, "reads %q, a read by name: a check runs before it may be observed", ref)
			}
		}
		if name, ok := strings.CutPrefix(ref, "vars."); ok {
			for _, id := range l.varReads[name] {
				if l.readRes[l.readIndex(id)].Read.Name != nil {
					l.errorf(e.Pos, e.Owner, e.Path, e.Source, "reads vars.%s, which reads %q, a read by name: a check runs before it may be observed", name, id)
				}
			}
		}
	}
}

func (l *loader) readIndex(id string) int {
	for i, r := range l.readRes {
		if r.ID == id {
			return i
		}
	}
	return 0
}

// readDeps adds to deps the reads the expressions read, directly or through vars.
func (l *loader) readDeps(all []*Expr, deps map[string]bool) {
	for _, e := range all {
		for _, ref := range e.Refs {
			if l.readIDs[ref] != nil {
				deps[ref] = true
			}
			if name, ok := strings.CutPrefix(ref, "vars."); ok {
				for _, r := range l.varReads[name] {
					deps[r] = true
				}
			}
		}
	}
}

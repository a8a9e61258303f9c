package graph

import (
	"slices"

	"github.com/google/cel-go/common/types"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/schema"
)

// DefaultMaxItems bounds a collection that sets no maxItems: a render whose forEach yields
// more items fails, naming the resource and the limit, rather than apply without bound.
const DefaultMaxItems = 100

// EachVar is the variable a collection's template sees: one item of its forEach list.
const EachVar = parse.NameEach

// Collection reports whether the node is a collection: one object per item of ForEach.
// Other expressions see a collection's id as the list of its items' observed objects.
func (n *Node) Collection() bool { return n.ForEach != nil }

// observedType is what a resource's id holds in expressions: its kind, or for a
// collection a list of it.
func observedType(r parse.Resource, k *schema.Kind) *types.Type {
	if r.ForEach != nil {
		return types.NewListType(k.Type.CelType())
	}
	return k.Type.CelType()
}

// forEach compiles a collection's forEach, which must yield a list, and returns the
// environment of its template: env and each, typed as the list's element. When forEach
// does not compile, each is dyn, so that the template's own errors still show.
func (l *loader) forEach(env *cel.Env, r parse.Resource, n *Node) *cel.Env {
	owner := "resource " + r.ID
	n.MaxItems = int(r.MaxItems)
	if n.MaxItems == 0 {
		n.MaxItems = DefaultMaxItems
	}
	elem := types.DynType
	if e := l.compile(env, r.ForEach.Source, owner, "forEach"); e != nil {
		switch {
		case e.Type.Kind() == types.ListKind:
			elem = e.Type.Parameters()[0]
			n.ForEach = e
		case isDyn(e.Type):
			n.ForEach = e
		default:
			l.errorf(e.Pos, owner, "forEach", e.Source, "expected a list, got %s: the resource is repeated once per item", typeString(e.Type))
		}
	}
	eenv, err := env.Extend(cel.Variable{Name: EachVar, Type: elem})
	if err != nil {
		l.errorf(r.Pos, owner, "forEach", "", "%v", err)
		return env
	}
	return eenv
}

// nameFromEach checks that a collection's metadata.name reads each: items must render
// objects of different names, and a name tied to its item stays the same when other items
// come and go (an index would not).
func (l *loader) nameFromEach(r parse.Resource, n *Node) {
	owner := "resource " + r.ID
	pos := r.Template.Pos
	name := field(field(n.Template, "metadata"), "name")
	if meta := parseField(r.Template, "metadata"); meta != nil {
		if v := parseField(meta, "name"); v != nil {
			pos = v.Pos
		}
	}
	for _, e := range exprs(name) {
		if slices.Contains(e.Refs, EachVar) {
			return
		}
	}
	if name != nil && len(exprs(name)) == 0 && !name.Static {
		return // the name failed to compile: that error is reported
	}
	l.errorf(pos, owner, "metadata.name", "", "a collection's objects need a name from their item: make metadata.name read each (\"${schema.metadata.name}-${each.name}\")")
}

// field is the child key of a compiled map, or nil.
func field(t *Tree, key string) *Tree {
	if t == nil {
		return nil
	}
	if i := slices.Index(t.Keys, key); i >= 0 {
		return t.Fields[i]
	}
	return nil
}

// parseField is the child key of a parsed map, or nil.
func parseField(v *parse.Value, key string) *parse.Value {
	for _, f := range v.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

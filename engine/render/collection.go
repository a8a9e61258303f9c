package render

import (
	"fmt"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
)

// Collections. A collection renders one object per item of its forEach list, each with
// `each` bound to its item, into Node.Items in item order. Its observed objects come in
// through Input.Observed as a List ({"items": [...]}), in any order, and are matched to
// the items by name: other nodes, readyWhen and status see the collection's id as the list
// of its items' observed objects, in item order, once every item's object is observed.
// Until then the id is not observed, and what reads it waits. A collection is ready when
// it rendered, every item's object is observed, and its readyWhen holds over that list.

// Objects are the objects a rendered node applies: its Object, or a collection's Items.
func (n Node) Objects() []map[string]any {
	if n.Object != nil {
		return []map[string]any{n.Object}
	}
	return n.Items
}

// withoutCollections is observed without the collections' Lists, which expressions see
// only as the lists a render makes of them (observeCollection).
func withoutCollections(g *graph.Graph, observed map[string]map[string]any) map[string]map[string]any {
	var out map[string]map[string]any
	for _, n := range g.Nodes {
		if !n.Collection() || observed[n.ID] == nil {
			continue
		}
		if out == nil {
			out = make(map[string]map[string]any, len(observed))
			for id, obj := range observed {
				out[id] = obj
			}
		}
		delete(out, n.ID)
	}
	if out == nil {
		return observed
	}
	return out
}

// collection renders the objects of a collection, one per item, each named apart.
func (r *evaluator) collection(n *graph.Node, out Node, namespace string, in Input, g *graph.Graph) Node {
	items, err := r.items(n)
	if err != nil {
		out.State, out.Reason = Error, err.Error()
		return out
	}
	s := *r.scope
	ev := *r
	ev.scope = &s
	objs := make([]map[string]any, 0, len(items))
	byName := make(map[string]int, len(items))
	for i, item := range items {
		s.each = item
		obj, err := ev.object(n, namespace, in, g)
		if err != nil {
			out.State, out.Reason = Error, fmt.Sprintf("%v (forEach item %d)", err, i)
			return out
		}
		name := metaString(obj, "name")
		if j, dup := byName[name]; dup {
			out.State, out.Reason = Error, fmt.Sprintf("resource %s: forEach items %d and %d both render the name %q: metadata.name must tell the items apart", n.ID, j, i, name)
			return out
		}
		byName[name] = i
		objs = append(objs, obj)
	}
	out.State, out.Items = Rendered, objs
	r.observeCollection(n, objs, in.Observed[n.ID])
	return out
}

// items evaluates a collection's forEach: its list, of at most n.MaxItems items. A null
// list has no items.
func (r *evaluator) items(n *graph.Node) ([]any, error) {
	v, err := r.run(n.ForEach)
	if err != nil {
		return nil, err
	}
	j, present, err := cel.ToJSON(v)
	if err != nil {
		return nil, &EvalError{Expr: n.ForEach, Err: err}
	}
	if !present {
		return nil, nil
	}
	list, ok := j.([]any)
	if !ok {
		return nil, &EvalError{Expr: n.ForEach, Err: fmt.Errorf("expected a list, got %s", v.Type())}
	}
	if len(list) > n.MaxItems {
		return nil, &EvalError{Expr: n.ForEach, Err: fmt.Errorf("%d items, more than the collection's limit of %d: yield fewer, or raise the resource's maxItems", len(list), n.MaxItems)}
	}
	return list, nil
}

// observeCollection matches the observed objects of a collection (a List) to the objects
// it rendered, by name, and reports whether every one is observed. When all are, the id
// holds their list in item order; otherwise the id is not observed, and the first missing
// object is what readers of the id wait for.
func (r *evaluator) observeCollection(n *graph.Node, objs []map[string]any, observed map[string]any) bool {
	raw, _ := observed["items"].([]any)
	byName := make(map[string]any, len(raw))
	for _, it := range raw {
		if obj, ok := it.(map[string]any); ok {
			byName[metaString(obj, "name")] = obj
		}
	}
	list := make([]any, 0, len(objs))
	for _, obj := range objs {
		name := metaString(obj, "name")
		seen, ok := byName[name]
		if !ok {
			delete(r.scope.reads, n.ID)
			r.vars.res.reads.waiting[n.ID] = fmt.Sprintf("waiting for %s (%s %s) to be observed", n.ID, n.Kind.GVK.Kind, name)
			return false
		}
		list = append(list, seen)
	}
	r.scope.reads[n.ID] = list
	delete(r.vars.res.reads.waiting, n.ID)
	return true
}

// observed reports whether a node's objects are all observed. For a collection it also
// makes, from in, the list its id holds for readyWhen and status.
func (r *evaluator) observed(n *graph.Node, out Node, in Input) bool {
	if !n.Collection() {
		return in.Observed[n.ID] != nil
	}
	if out.State != Rendered {
		delete(r.scope.reads, n.ID)
		return false
	}
	return r.observeCollection(n, out.Items, in.Observed[n.ID])
}

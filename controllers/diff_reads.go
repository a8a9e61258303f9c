package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/render"
)

// readData holds what the graph's reads select, listed once for the whole run and indexed
// as the reconciler's cache indexes it, so that each instance finds its share by lookup.
type readData struct {
	// byName: the objects a read by name may read, by read id, namespace and name.
	byName map[string]map[types.NamespacedName]*unstructured.Unstructured
	// byKey: a collection's items by the instance keys its instanceKey gives them.
	byKey map[string]map[string][]any
	// all: the items of a collection without instanceKey (the render selects among them).
	all map[string][]any
}

// readAll lists the objects of every read, each list narrowed to the read's namespace
// and labels where they are fixed.
func (x *differ) readAll(ctx context.Context) (*readData, error) {
	d := &readData{byName: map[string]map[types.NamespacedName]*unstructured.Unstructured{},
		byKey: map[string]map[string][]any{}, all: map[string][]any{}}
	lists := map[string][]*unstructured.Unstructured{} // a list serves every read that asks the same
	for _, rd := range x.g.Reads {
		if !x.served[rd.Kind.GVK] {
			continue // no CRD: a read by name finds nothing, a collection is empty
		}
		ns := ""
		switch {
		case !rd.Kind.Namespaced || rd.Namespace == parse.AllNamespaces:
		case rd.Namespace == "":
			ns = x.opts.Namespace // the instance's: every namespace diffed
		default:
			ns = rd.Namespace
		}
		selector := ""
		if rd.Collection() && len(rd.MatchLabels) > 0 {
			selector = labels.SelectorFromSet(rd.MatchLabels).String()
		}
		key := rd.Kind.GVK.String() + "|" + ns + "|" + selector
		objs, ok := lists[key]
		if !ok {
			var err error
			if objs, err = x.list(ctx, rd.Kind.GVK, ns, selector); err != nil {
				return nil, err
			}
			lists[key] = objs
		}
		d.index(ctx, rd, objs)
	}
	return d, nil
}

func (d *readData) index(ctx context.Context, rd *graph.Read, objs []*unstructured.Unstructured) {
	switch {
	case !rd.Collection():
		m := make(map[types.NamespacedName]*unstructured.Unstructured, len(objs))
		for _, o := range objs {
			m[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}] = o
		}
		d.byName[rd.ID] = m
	case rd.InstanceKey != nil:
		m := map[string][]any{}
		for _, o := range objs {
			keys, _ := render.ReadKeys(ctx, rd, o.Object) // an item the key fails on is read by no instance
			for _, k := range keys {
				m[k] = append(m[k], o.Object)
			}
		}
		d.byKey[rd.ID] = m
	default:
		items := make([]any, len(objs))
		for i, o := range objs {
			items[i] = o.Object
		}
		d.all[rd.ID] = items
	}
}

// observe adds to observed what inst's reads select, as the reconciler's readWatch.observe
// does from its cache: the object of each read by name that exists, a List of each
// collection's candidates.
func (d *readData) observe(ctx context.Context, g *graph.Graph, inst *unstructured.Unstructured, config map[string]any, observed map[string]map[string]any) error {
	if len(g.Reads) == 0 {
		return nil
	}
	targets, err := render.ReadTargets(ctx, g, render.Input{Instance: inst.Object, Config: config})
	if err != nil {
		return err
	}
	for _, rd := range g.Reads {
		switch {
		case !rd.Collection():
			if t, ok := targets[rd.ID]; ok {
				if obj := d.byName[rd.ID][types.NamespacedName{Namespace: t.Namespace, Name: t.Name}]; obj != nil {
					observed[rd.ID] = obj.Object
				}
			}
		case rd.InstanceKey != nil:
			items := d.byKey[rd.ID][graph.InstanceKey(inst.GetNamespace(), inst.GetName())]
			observed[rd.ID] = list(items)
		default:
			observed[rd.ID] = list(d.all[rd.ID])
		}
	}
	return nil
}

// list is a List of items; the render sorts what it keeps.
func list(items []any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
}

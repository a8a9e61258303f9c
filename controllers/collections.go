package controllers

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
)

// Collections. A node with forEach applies one object per item, so a pass keys its live
// objects by liveKey: the node id, and for an item of a collection the object's name too.
// What render observes of a collection is a List of every live object of the node (render
// matches them to the items by name); pruning keeps only the objects whose names the
// current items render, so the object of an item that went is deleted like that of a
// skipped node.

// liveKey is where a pass keeps the live object obj of node n.
func liveKey(n *graph.Node, obj map[string]any) string {
	if !n.Collection() {
		return n.ID
	}
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	return n.ID + "/" + name
}

// liveObject is the live object of one rendered object (units), or nil.
func liveObject(g *graph.Graph, live map[string]*unstructured.Unstructured, n render.Node) *unstructured.Unstructured {
	node, ok := g.Node(n.ID)
	if !ok {
		return nil
	}
	return live[liveKey(node, n.Object)]
}

// observedOf is what render observes of the live objects: each node's object, and for a
// collection a List of its objects.
func observedOf(g *graph.Graph, live map[string]*unstructured.Unstructured) map[string]map[string]any {
	out := make(map[string]map[string]any, len(live))
	for key, obj := range live {
		id := obj.GetLabels()[applied.LabelNode]
		if n, ok := g.Node(id); ok && n.Collection() {
			observeItem(out, id, obj.Object)
			continue
		}
		out[key] = obj.Object
	}
	return out
}

// observeItem puts obj, an object of collection id, in observed's List for id, in place of
// the object of the same name if there is one. The List is made anew: render may hold the
// old one.
func observeItem(observed map[string]map[string]any, id string, obj map[string]any) {
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	old, _ := observed[id]["items"].([]any)
	items := make([]any, 0, len(old)+1)
	for _, it := range old {
		if m, ok := it.(map[string]any); ok {
			if n, _, _ := unstructured.NestedString(m, "metadata", "name"); n == name {
				continue
			}
		}
		items = append(items, it)
	}
	observed[id] = map[string]any{"apiVersion": "v1", "kind": "List", "items": append(items, obj)}
}

// setObserved records obj, what an apply of one object of node id returned, as observed.
func setObserved(g *graph.Graph, observed map[string]map[string]any, id string, obj map[string]any) {
	if n, ok := g.Node(id); ok && n.Collection() {
		observeItem(observed, id, obj)
		return
	}
	observed[id] = obj
}

// units are the objects a batch of nodes applies, one render.Node each: a node as it is,
// and a rendered collection as one node per item, holding the item's object.
func units(batch []render.Node) []render.Node {
	out := make([]render.Node, 0, len(batch))
	for _, n := range batch {
		if n.Items == nil {
			out = append(out, n)
			continue
		}
		for _, obj := range n.Items {
			out = append(out, render.Node{ID: n.ID, State: n.State, Object: obj})
		}
	}
	return out
}

// keptUIDs are the observed objects a rendered node accounts for: its object, or the
// objects of a collection whose names its items render.
func keptUIDs(n render.Node, observed map[string]map[string]any) []types.UID {
	obj, ok := observed[n.ID]
	if !ok || n.State != render.Rendered {
		return nil
	}
	if n.Object != nil || n.Items == nil {
		return []types.UID{(&unstructured.Unstructured{Object: obj}).GetUID()}
	}
	names := make(map[string]bool, len(n.Items))
	for _, it := range n.Items {
		name, _, _ := unstructured.NestedString(it, "metadata", "name")
		names[name] = true
	}
	var out []types.UID
	items, _ := obj["items"].([]any)
	for _, it := range items {
		u := &unstructured.Unstructured{}
		u.Object, _ = it.(map[string]any)
		if u.Object != nil && names[u.GetName()] {
			out = append(out, u.GetUID())
		}
	}
	return out
}

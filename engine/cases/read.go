package cases

import (
	"fmt"

	"github.com/loom-mcp/loom/engine/graph"
)

// readObserved completes and validates what a case observed for a read: the object of a
// read by name, or a List of the collection's items (apiVersion and kind of each may be
// left out).
func (s *Suite) readObserved(path string, rd *graph.Read, obj map[string]any) (map[string]any, error) {
	gvk := rd.Kind.GVK
	objs := []map[string]any{obj}
	if rd.Collection() {
		if k, _ := obj["kind"].(string); k != "List" {
			return nil, fmt.Errorf("%s: read %s is a collection: expected a List (kind: List, items: [...])", path, rd.ID)
		}
		items, ok := obj["items"].([]any)
		if !ok && obj["items"] != nil {
			return nil, fmt.Errorf("%s: items: expected a list", path)
		}
		objs = objs[:0]
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: items[%d]: expected an object", path, i)
			}
			objs = append(objs, m)
		}
	}
	for i, o := range objs {
		for _, f := range [][2]string{{"apiVersion", gvk.GroupVersion().String()}, {"kind", gvk.Kind}} {
			got, set := o[f[0]]
			if !set {
				o[f[0]] = f[1]
			} else if got != f[1] {
				return nil, fmt.Errorf("%s: object %d: %s is %v, but read %s reads %s %s", path, i, f[0], got, rd.ID, gvk.GroupVersion(), gvk.Kind)
			}
		}
		if err := s.Graph.Schemas.Validate(o); err != nil {
			return nil, fmt.Errorf("%s: object %d: %w", path, i, err)
		}
	}
	return obj, nil
}

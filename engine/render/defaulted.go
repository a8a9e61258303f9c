package render

import "github.com/loom-mcp/loom/engine/graph"

// defaultedView is the `defaulted` variable of one render: the instance with its CRD's
// defaults applied under absent parents too (schema.Set.Defaulted), made the first
// time an expression reads it, so that a graph that never reads it pays nothing.
type defaultedView struct {
	graph    *graph.Graph
	instance map[string]any
	value    map[string]any
}

func (d *defaultedView) get() map[string]any {
	if d.value == nil {
		// The instance's kind is in the graph's schemas: it typed the graph.
		d.value, _ = d.graph.Schemas.Defaulted(d.graph.Instance.GVK, d.instance)
		if d.value == nil {
			d.value = map[string]any{}
		}
	}
	return d.value
}

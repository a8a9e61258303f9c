package render

import (
	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
)

// defaultedView is the `defaulted` variable of one render: the instance with its CRD's
// defaults applied under absent parents too (schema.Set.DefaultEverywhere), made the first
// time an expression reads it, so that a graph that never reads it pays nothing.
type defaultedView struct {
	graph    *graph.Graph
	instance map[string]any
	value    map[string]any
}

func (d *defaultedView) get() map[string]any {
	if d.value == nil {
		v, _ := cel.CopyJSON(d.instance).(map[string]any)
		if v == nil {
			v = map[string]any{}
		}
		// The instance's kind is in the graph's schemas: it typed the graph.
		_ = d.graph.Schemas.DefaultEverywhere(d.graph.Instance.GVK, v)
		d.value = v
	}
	return d.value
}

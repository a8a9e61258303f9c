package render_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

// widgetGraph expands engine/schema's test kind Widget, whose spec defaults mode,
// replicas and resources.cpu.
const widgetGraph = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: test.loom.dev/v1alpha1, kind: Widget}
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: c}
      data:
        mode: ${ defaulted.spec.mode }
        cpu: ${ defaulted.spec.resources.cpu }
        memory: ${ defaulted.spec.resources.?memory.orValue("none") }
        stored: '${ has(schema.spec) ? "spec" : "no spec" }'
`

// TestDefaulted: defaulted applies the CRD's defaults under absent parents; schema stays
// the instance as given.
func TestDefaulted(t *testing.T) {
	s := enginetest.Schemas(t, "../schema/testdata/widget-crd.yaml")
	g, err := graph.Load("g.yaml", []byte(widgetGraph), graph.WithSchemas(s))
	require.NoError(t, err)
	tests := []struct {
		name string
		spec map[string]any
		want map[string]any
	}{
		{"no spec", nil, map[string]any{"mode": "safe", "cpu": "100m", "memory": "none", "stored": "no spec"}},
		{"set values win", map[string]any{"image": "x", "mode": "fast", "resources": map[string]any{"memory": "1Gi"}},
			map[string]any{"mode": "fast", "cpu": "100m", "memory": "1Gi", "stored": "spec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := map[string]any{"apiVersion": "test.loom.dev/v1alpha1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "team"}}
			if tt.spec != nil {
				inst["spec"] = tt.spec
			}
			res, err := render.Render(context.Background(), g, render.Input{Instance: inst})
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			assert.Equal(t, tt.want, res.Nodes[0].Object["data"])
			if tt.spec == nil {
				assert.NotContains(t, inst, "spec", "the instance itself is not changed")
			}
		})
	}
}

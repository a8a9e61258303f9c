package render_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

// BenchmarkRender3Nodes renders the engine's sample graph (ConfigMap, Deployment, Service)
// with every node's dependencies observed, so all three render: the README's figure.
func BenchmarkRender3Nodes(b *testing.B) {
	g := enginetest.LoadGraph(b, enginetest.SampleGraph(), enginetest.Schemas(b))
	in := render.Input{
		Instance: app(map[string]any{"image": "nginx:1.27", "env": map[string]any{"LOG": "debug"}}),
		Observed: map[string]map[string]any{
			"settings": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "web-settings", "namespace": "team"}},
		},
	}
	ctx := context.Background()
	res, err := render.Render(ctx, g, in)
	require.NoError(b, err)
	for _, n := range res.Nodes {
		require.Equal(b, render.Rendered, n.State, n.ID)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := render.Render(ctx, g, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad loads and type-checks the sample graph (schemas already decoded).
func BenchmarkLoad(b *testing.B) {
	s := enginetest.Schemas(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		data, err := os.ReadFile(enginetest.SampleGraph())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := graph.Load(enginetest.SampleGraph(), data, graph.WithSchemas(s)); err != nil {
			b.Fatal(err)
		}
	}
}

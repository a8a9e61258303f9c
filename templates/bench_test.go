package templates_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/engine/schema"
	"github.com/loom-mcp/loom/templates"
)

// benchConfig is the operator configuration of the benchmarks, as in the integration tests.
var benchConfig = map[string]any{"gatewayProxyImage": "ghcr.io/loom-mcp/mcp-gateway:1.0.0"}

func schemas(b *testing.B) *schema.Set {
	b.Helper()
	set, err := templates.MCPServerSchemas()
	require.NoError(b, err)
	return set
}

// example reads examples/<file> as the API server returns it: defaulted, in a namespace,
// integers as int64.
func example(b *testing.B, g *graph.Graph, file string) map[string]any {
	b.Helper()
	data, err := os.ReadFile("../examples/" + file)
	require.NoError(b, err)
	js, err := yaml.YAMLToJSON(data)
	require.NoError(b, err)
	var obj map[string]any
	require.NoError(b, utiljson.Unmarshal(js, &obj))
	meta := obj["metadata"].(map[string]any)
	meta["namespace"], meta["uid"], meta["generation"] = "bench", "00000000-0000-0000-0000-000000000001", int64(1)
	require.NoError(b, g.Schemas.Default(obj))
	return obj
}

// BenchmarkMCPServerLoad parses and type-checks templates/mcpserver.yaml, the built-in
// schemas already decoded (the operator decodes them once, at start).
func BenchmarkMCPServerLoad(b *testing.B) {
	set := schemas(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := graph.Load(templates.MCPServerFile, templates.MCPServer, graph.WithSchemas(set)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMCPServerGraphHeap reports the heap a loaded default graph holds (B/graph) once
// it has rendered each example and its status, as an operator's graph has after its first
// reconciles: what every operator process keeps for the graph, besides its caches.
func BenchmarkMCPServerGraphHeap(b *testing.B) {
	set := schemas(b)
	ctx := context.Background()
	var held uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g, err := graph.Load(templates.MCPServerFile, templates.MCPServer, graph.WithSchemas(set))
		require.NoError(b, err)
		for _, file := range []string{"plain.yaml", "hostless.yaml", "gateway.yaml"} {
			// observedReady renders; the status reads readiness.
			in, res := observedReady(b, g, example(b, g, file))
			_, err := render.Status(ctx, g, in, res, render.StatusOptions{})
			require.NoError(b, err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held += after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(held)/float64(b.N), "B/graph")
}

// BenchmarkMCPServerRender renders one MCPServer through the default graph, as every
// reconcile does (twice: before and after its applies). Every object is observed, as in a
// steady state; the graph's templates read none of them, so a first render costs the same.
func BenchmarkMCPServerRender(b *testing.B) {
	g, err := templates.LoadMCPServer()
	require.NoError(b, err)
	for _, file := range []string{"plain.yaml", "hostless.yaml", "gateway.yaml"} {
		b.Run(file, func(b *testing.B) {
			in, _ := observedReady(b, g, example(b, g, file))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render.Render(ctx, g, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMCPServerStatus evaluates readiness and status for one MCPServer whose every
// object is observed and ready: the last step of each reconcile.
func BenchmarkMCPServerStatus(b *testing.B) {
	g, err := templates.LoadMCPServer()
	require.NoError(b, err)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, file := range []string{"plain.yaml", "gateway.yaml"} {
		b.Run(file, func(b *testing.B) {
			in, res := observedReady(b, g, example(b, g, file))
			ctx := context.Background()
			rep, err := render.Status(ctx, g, in, res, render.StatusOptions{Now: now})
			require.NoError(b, err)
			require.Equal(b, "Ready", rep.Status["phase"], "%v", rep.Status)
			b.ReportAllocs()
			for b.Loop() {
				// Evaluate spends from the render's CEL budget; give each run a fresh one.
				res.Budget.Remaining = g.CostBudget
				if _, err := render.Status(ctx, g, in, res, render.StatusOptions{Now: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// observedReady renders instance and returns the input of a steady-state reconcile, every
// rendered object observed as the cluster reports it once ready, with its render.
func observedReady(b *testing.B, g *graph.Graph, instance map[string]any) (render.Input, *render.Result) {
	b.Helper()
	ctx := context.Background()
	in := render.Input{Instance: instance, Config: benchConfig}
	res, err := render.Render(ctx, g, in)
	require.NoError(b, err)
	require.Empty(b, res.Errors)
	in.Observed = map[string]map[string]any{}
	for _, n := range res.Nodes {
		if n.State != render.Rendered {
			continue
		}
		obj := n.Object
		obj["metadata"].(map[string]any)["generation"] = int64(1)
		switch obj["kind"] {
		case "Deployment":
			replicas := obj["spec"].(map[string]any)["replicas"]
			obj["status"] = map[string]any{"observedGeneration": int64(1), "replicas": replicas,
				"updatedReplicas": replicas, "availableReplicas": replicas, "readyReplicas": replicas}
		case "Service":
			obj["spec"].(map[string]any)["clusterIP"] = "10.96.0.10"
		case "Ingress":
			obj["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "127.0.0.1"}}}}
		}
		in.Observed[n.ID] = obj
	}
	res, err = render.Render(ctx, g, in)
	require.NoError(b, err)
	return in, res
}

package render_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/common/types/ref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

func load(t testing.TB, resources string, opts ...graph.Option) *graph.Graph {
	t.Helper()
	src := `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
` + resources
	g, err := graph.Load("g.yaml", []byte(src), append([]graph.Option{graph.WithSchemas(enginetest.Schemas(t))}, opts...)...)
	require.NoError(t, err)
	return g
}

// renderApp renders g for app(image x), which must not fail as a whole.
func renderApp(t *testing.T, g *graph.Graph) *render.Result {
	t.Helper()
	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "x"})})
	require.NoError(t, err)
	return res
}

func app(spec map[string]any) map[string]any {
	if spec["replicas"] == nil {
		spec["replicas"] = int64(1)
	}
	if spec["port"] == nil {
		spec["port"] = int64(8080)
	}
	return map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team", "generation": int64(3)},
		"spec":     spec,
	}
}

func TestRenderValues(t *testing.T) {
	g := load(t, `  resources:
  - id: deployment
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ${schema.metadata.name}
        annotations:
          host: ${schema.spec.?host}
          desc: "port ${schema.spec.port}, $${literal}"
      spec:
        replicas: ${schema.spec.replicas}
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: app
              image: ${schema.spec.image}
              env: '${ schema.spec.?env.orValue({}).map(k, {"name": k, "value": schema.spec.env[k]}) }'
`)
	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "nginx", "replicas": int64(2), "env": map[string]any{"A": "1"}}), Validate: true})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 1)
	n := res.Nodes[0]
	require.Equal(t, render.Rendered, n.State, n.Reason)
	obj := n.Object
	meta := obj["metadata"].(map[string]any)
	assert.Equal(t, "team", meta["namespace"], "namespaced objects land in the instance's namespace")
	assert.Equal(t, map[string]any{"desc": "port 8080, ${literal}"}, meta["annotations"], "an absent optional omits the field")
	spec := obj["spec"].(map[string]any)
	assert.Equal(t, int64(2), spec["replicas"], "integers stay int64")
	c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{map[string]any{"name": "A", "value": "1"}}, c["env"])
}

func TestRenderIncludeWhenSkipsDependents(t *testing.T) {
	g := load(t, `  resources:
  - id: settings
    includeWhen: ['${ schema.spec.?host.hasValue() }']
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: s}}
  - id: user
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: u}
      data: {from: "${settings.metadata.name}"}
  - id: other
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: o}}
`)
	res := renderApp(t, g)
	states := map[string]render.State{}
	for _, n := range res.Nodes {
		states[n.ID] = n.State
	}
	assert.Equal(t, map[string]render.State{"settings": render.Skipped, "user": render.Skipped, "other": render.Rendered}, states)

	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "x", "host": "h"})})
	require.NoError(t, err)
	u, _ := res.Node("user")
	assert.Equal(t, render.Waiting, u.State)
	assert.Contains(t, u.Reason, "waiting for settings")

	obs := map[string]map[string]any{"settings": {"metadata": map[string]any{"name": "s-observed"}}}
	res, err = render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "x", "host": "h"}), Observed: obs})
	require.NoError(t, err)
	u, _ = res.Node("user")
	require.Equal(t, render.Rendered, u.State)
	assert.Equal(t, map[string]any{"from": "s-observed"}, u.Object["data"])
}

func TestRenderChecks(t *testing.T) {
	g := load(t, `  checks:
  - rule: ${ schema.spec.replicas < 10 }
    field: spec.replicas
    message: at most 9 replicas
  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
`)
	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "x", "replicas": int64(12)})})
	require.NoError(t, err)
	assert.True(t, res.Invalid)
	assert.Equal(t, []string{"spec.replicas: at most 9 replicas"}, res.Errors)
	assert.Equal(t, render.Error, res.Nodes[0].State, "an invalid instance renders nothing")
	assert.Nil(t, res.Nodes[0].Object)
}

func TestRenderEvalErrorNamesTheExpression(t *testing.T) {
	g := load(t, `  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
      data: {host: "${schema.spec.host}"}
`)
	res := renderApp(t, g)
	require.Equal(t, render.Error, res.Nodes[0].State)
	for _, want := range []string{"g.yaml:12:", "resource cm, field data.host", "${schema.spec.host}", "no such key: host"} {
		assert.Contains(t, res.Nodes[0].Reason, want)
	}
}

// TestRenderVarsComputedOnce: a var is computed once however many expressions read it,
// whether it has a value, is null, or fails (its error is the render's once, and every
// reader fails with it).
func TestRenderVarsComputedOnce(t *testing.T) {
	g := load(t, `  vars:
    none: ${ null }
    port: ${ schema.spec.port }
    broken: ${ schema.spec.host }
  resources:
  - {id: cm, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x},
      data: {c: '${ string(vars.port) }', d: '${ string(vars.port + 1) }'}}}
  - {id: one, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: one}, data: {v: '${ vars.broken }'}}}
  - {id: two, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: two}, data: {v: '${ vars.broken + "-2" }'}}}
  - {id: nulls, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: nulls},
      data: {a: '${ vars.none }', b: '${ string(vars.none) }'}}}
`)
	res := renderApp(t, g)
	require.Equal(t, render.Rendered, res.Nodes[0].State, res.Nodes[0].Reason)
	assert.Equal(t, map[string]any{"c": "8080", "d": "8081"}, res.Nodes[0].Object["data"])
	assert.NotContains(t, res.Vars, "none", "a null var has no value")
	require.Len(t, res.Nodes, 4)
	assert.Equal(t, render.Error, res.Nodes[3].State)
	assert.Contains(t, res.Nodes[3].Reason, "no such attribute(s): vars.none", "nothing to read")
	for _, n := range res.Nodes[1:3] {
		assert.Equal(t, render.Error, n.State, n.ID)
		assert.Contains(t, n.Reason, "reads vars.broken, which failed", n.ID)
	}
	failed := 0
	for _, e := range res.Errors {
		if strings.Contains(e, "no such key: host") {
			failed++
		}
	}
	assert.Equal(t, 1, failed, "the var's own error, once: %q", res.Errors)
}

// TestRenderVarsComputedWhenRead: a var is computed when an expression reads it, not when
// the expression merely names it, so one in a branch not taken costs nothing and its error
// is nobody's; a var computed inside another expression's loop is metered on its own.
func TestRenderVarsComputedWhenRead(t *testing.T) {
	g := load(t, `  vars:
    broken: ${ schema.spec.host }
    total: ${ [1, 2, 3, 4].map(x, x * 2).sum() }
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
      data:
        a: '${ schema.spec.port > 0 ? "no host needed" : vars.broken }'
        b: '${ string([1, 2, 3].map(i, vars.total + i).sum()) }'
`)
	res := renderApp(t, g)
	require.Equal(t, render.Rendered, res.Nodes[0].State, res.Nodes[0].Reason)
	assert.Equal(t, map[string]any{"a": "no host needed", "b": "66"}, res.Nodes[0].Object["data"])
	assert.Empty(t, res.Errors, "vars.broken was never read")
	assert.NotContains(t, res.Vars, "broken")
	assert.Equal(t, int64(20), res.Vars["total"].(ref.Val).Value())
}

// A var computed while another expression's loop runs is charged to the render's budget
// as one computed before it.
func TestRenderVarReadInALoopIsCharged(t *testing.T) {
	spent := func(reader string) uint64 {
		g := load(t, strings.NewReplacer("LIST", forty(), "READER", reader).Replace(`  vars:
    total: ${ (LIST).map(x, x * 2).sum() }
  resources:
  - {id: cm, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}, data: {n: '${ READER }'}}}
`))
		res := renderApp(t, g)
		require.Equal(t, render.Rendered, res.Nodes[0].State, res.Nodes[0].Reason)
		return graph.DefaultCostBudget - res.Budget.Remaining
	}
	direct := spent(`string(vars.total + 1)`)
	inLoop := spent(`string([1].map(i, vars.total + i).sum())`)
	require.Greater(t, direct, uint64(40), "the var's loop is charged")
	assert.GreaterOrEqual(t, inLoop, direct, "read inside a loop, the var costs what it costs read directly")
}

// costly nests comprehensions over a 40-item list: 40^4 = 2.5M iterations, far over a
// 100k limit.
var costly = strings.ReplaceAll(`  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
      data:
        n: '${ string(L.map(a, L.map(b, L.map(c, L.filter(d, a+b+c+d > 0).size()).sum()).sum()).sum()) }'
`, "L", forty())

func forty() string {
	items := make([]string, 40)
	for i := range items {
		items[i] = strconv.Itoa(i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestRenderCostLimit(t *testing.T) {
	g := load(t, costly, graph.WithCostLimit(100_000))
	start := time.Now()
	res := renderApp(t, g)
	require.Equal(t, render.Error, res.Nodes[0].State)
	assert.Contains(t, res.Nodes[0].Reason, "cost limit exceeded")
	assert.Contains(t, res.Nodes[0].Reason, "resource cm, field data.n")
	// A sanity bound, not a benchmark: unbounded, this expression runs for seconds.
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestRenderCostBudget(t *testing.T) {
	twoNodes := strings.ReplaceAll(`  resources:
  - id: a
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {n: '${ string((LIST).map(x, x * 2).sum()) }'}}
  - id: b
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {n: '${ string((LIST).map(x, x * 2).sum()) }'}}
`, "LIST", forty())
	in := render.Input{Instance: app(map[string]any{"image": "x"})}

	// Measure what the two equal expressions cost together, then allow one and a half.
	res, err := render.Render(context.Background(), load(t, twoNodes), in)
	require.NoError(t, err)
	spent := graph.DefaultCostBudget - res.Budget.Remaining
	require.Greater(t, spent, uint64(100))

	res, err = render.Render(context.Background(), load(t, twoNodes, graph.WithCostBudget(spent*3/4)), in)
	require.NoError(t, err)
	assert.Equal(t, render.Rendered, res.Nodes[0].State, "the first expression fits the budget")
	require.Equal(t, render.Error, res.Nodes[1].State)
	assert.Contains(t, res.Nodes[1].Reason, cel.ErrBudget.Error())
}

func TestRenderStopsWithItsContext(t *testing.T) {
	g := load(t, costly, graph.WithCostLimit(1<<62))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := render.Render(ctx, g, render.Input{Instance: app(map[string]any{"image": "x"})})
	require.NoError(t, err)
	require.Equal(t, render.Error, res.Nodes[0].State)
	assert.Contains(t, res.Nodes[0].Reason, "evaluation stopped")
}

// The graph's RenderTimeout bounds a render whose caller set no deadline (the reconciler's
// and the CLI's renders): the expression running then fails with ErrDeadline.
func TestRenderStopsAtItsGraphsTimeout(t *testing.T) {
	g := load(t, costly, graph.WithCostLimit(1<<62), graph.WithCostBudget(1<<62), graph.WithRenderTimeout(50*time.Millisecond))
	res := renderApp(t, g)
	require.Equal(t, render.Error, res.Nodes[0].State)
	assert.Contains(t, res.Nodes[0].Reason, "resource cm, field data.n")
	assert.Contains(t, res.Nodes[0].Reason, render.ErrDeadline.Error())
	assert.Equal(t, graph.DefaultRenderTimeout, load(t, costly).RenderTimeout, "graphs have a timeout by default")
}

func TestRenderBadConfig(t *testing.T) {
	g := load(t, `  config:
    domain: {type: string, default: local}
  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${config.domain}"}}
`)
	_, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "x"}), Config: map[string]any{"domian": "x"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config domian: the graph declares no such key")
	assert.False(t, errors.Is(err, render.ErrPending))
}

// TestDefaulted: defaulted applies the CRD's defaults (App defaults replicas and port);
// schema stays the instance as given, and is not changed. (engine/schema's tests show
// defaults under absent parents.)
func TestDefaulted(t *testing.T) {
	g := load(t, `  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {
      replicas: "${ string(defaulted.spec.replicas) }", port: "${ string(defaulted.spec.port) }",
      stored: '${ has(schema.spec.replicas) ? "replicas" : "no replicas" }'}}
`)
	tests := []struct {
		name string
		spec map[string]any
		want map[string]any
	}{
		{"defaults", map[string]any{"image": "x"}, map[string]any{"replicas": "1", "port": "8080", "stored": "no replicas"}},
		{"set values win", map[string]any{"image": "x", "replicas": int64(3)}, map[string]any{"replicas": "3", "port": "8080", "stored": "replicas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := map[string]any{"apiVersion": "example.loom.dev/v1", "kind": "App", "metadata": map[string]any{"name": "w", "namespace": "team"}, "spec": tt.spec}
			res, err := render.Render(context.Background(), g, render.Input{Instance: inst})
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			assert.Equal(t, tt.want, res.Nodes[0].Object["data"])
			assert.NotContains(t, tt.spec, "port", "the instance itself is not changed")
		})
	}
}

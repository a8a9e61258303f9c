package render_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

const src = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: svc
    readyWhen: ['${ svc.spec.?clusterIP.orValue("") != "" }']
    template:
      apiVersion: v1
      kind: Service
      metadata: {name: s}
      spec: {ports: [{port: 80}]}
  status:
    ready: ${ ready.cm && ready.svc }
    url: ${ "http://" + svc.spec.clusterIP }
    phase: '${ size(errors) > 0 ? "Error" : ready.cm && ready.svc ? "Ready" : "Pending" }'
    conditions:
    - type: Ready
      status: '${ ready.cm && ready.svc ? "True" : "False" }'
      observedGeneration: ${ schema.metadata.generation }
`

func setup(t *testing.T) *graph.Graph {
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	return g
}

func instance(conditions ...any) map[string]any {
	obj := map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team", "generation": int64(4)},
		"spec":     map[string]any{"image": "x", "replicas": int64(1), "port": int64(8080)},
	}
	if len(conditions) > 0 {
		obj["status"] = map[string]any{"conditions": conditions}
	}
	return obj
}

func evaluate(t *testing.T, g *graph.Graph, in render.Input, opts render.StatusOptions) *render.Report {
	res, err := render.Render(context.Background(), g, in)
	require.NoError(t, err)
	rep, err := render.Status(context.Background(), g, in, res, opts)
	require.NoError(t, err)
	return rep
}

func TestReadiness(t *testing.T) {
	g := setup(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cm := map[string]any{"metadata": map[string]any{"name": "c"}}
	svcPending := map[string]any{"metadata": map[string]any{"name": "s"}, "spec": map[string]any{}}
	svcReady := map[string]any{"metadata": map[string]any{"name": "s"}, "spec": map[string]any{"clusterIP": "10.96.0.7"}}

	t.Run("nothing observed", func(t *testing.T) {
		rep := evaluate(t, g, render.Input{Instance: instance()}, render.StatusOptions{Now: now})
		assert.Equal(t, map[string]bool{"cm": false, "svc": false}, rep.Ready)
		assert.Equal(t, "Pending", rep.Status["phase"])
		assert.NotContains(t, rep.Status, "url", "a field reading an unobserved object is left out")
		assert.Empty(t, rep.Errors)
		cond := rep.Status["conditions"].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"type": "Ready", "status": "False", "observedGeneration": int64(4), "lastTransitionTime": "2026-03-01T12:00:00Z"}, cond)
	})
	t.Run("observed but not ready", func(t *testing.T) {
		rep := evaluate(t, g, render.Input{Instance: instance(), Observed: map[string]map[string]any{"cm": cm, "svc": svcPending}}, render.StatusOptions{Now: now})
		assert.Equal(t, map[string]bool{"cm": true, "svc": false}, rep.Ready)
		assert.Equal(t, "Pending", rep.Status["phase"])
		assert.Len(t, rep.Errors, 1, "url fails on a missing clusterIP: an error, not pending")
	})
	t.Run("ready keeps an unchanged condition's time", func(t *testing.T) {
		old := map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
		rep := evaluate(t, g, render.Input{Instance: instance(old), Observed: map[string]map[string]any{"cm": cm, "svc": svcReady}}, render.StatusOptions{Now: now})
		assert.Equal(t, "Ready", rep.Status["phase"])
		assert.Equal(t, "http://10.96.0.7", rep.Status["url"])
		cond := rep.Status["conditions"].([]any)[0].(map[string]any)
		assert.Equal(t, "2026-01-01T00:00:00Z", cond["lastTransitionTime"])
	})
	t.Run("a flipped condition gets a new time", func(t *testing.T) {
		old := map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
		rep := evaluate(t, g, render.Input{Instance: instance(old), Observed: map[string]map[string]any{"cm": cm, "svc": svcPending}}, render.StatusOptions{Now: now})
		cond := rep.Status["conditions"].([]any)[0].(map[string]any)
		assert.Equal(t, "2026-03-01T12:00:00Z", cond["lastTransitionTime"])
	})
	t.Run("errors from outside reach status", func(t *testing.T) {
		rep := evaluate(t, g, render.Input{Instance: instance(), Observed: map[string]map[string]any{"cm": cm, "svc": svcReady}}, render.StatusOptions{Now: now, Errors: []string{"apply svc: forbidden"}})
		assert.Equal(t, "Error", rep.Status["phase"])
	})
}

package render_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

// summaryGraph waits for cm and svc; np is ignored, extra is skipped unless the instance
// has a host. Its status reads status vars that state the readiness rule once.
const summaryGraph = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  vars:
    isReady: ${ size(errors) == 0 && allReady }
    phase: '${ size(errors) > 0 ? "Error" : vars.isReady ? "Ready" : anyReady ? "PartiallyReady" : "Pending" }'
    waiting: '${ [ready.cm ? "" : "cm", ready.svc ? "" : "svc"].filter(s, s != "") }'
    url: '${ vars.isReady ? optional.of("http://" + svc.spec.clusterIP) : optional.none() }'
  resources:
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: svc
    template: {apiVersion: v1, kind: Service, metadata: {name: s}}
  - id: np
    ignoreReadiness: true
    template: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: n}}
  - id: extra
    includeWhen: ['${ has(schema.spec.host) }']
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: e}}
  status:
    phase: ${ vars.phase }
    ready: ${ vars.isReady }
    url: ${ vars.url }
    conditions:
    - type: Ready
      status: '${ vars.isReady ? "True" : "False" }'
      reason: ${ vars.phase }
      message: '${ vars.isReady ? "ready" : "waiting for " + vars.waiting.join(", ") }'
`

// TestStatusVarsAndSummary: status vars are computed in the status phase, once readiness
// is known; allReady and anyReady leave out skipped and ignored nodes.
func TestStatusVarsAndSummary(t *testing.T) {
	g, err := graph.Load("g.yaml", []byte(summaryGraph), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	cm := map[string]any{"metadata": map[string]any{"name": "c"}}
	svc := map[string]any{"metadata": map[string]any{"name": "s"}, "spec": map[string]any{"clusterIP": "10.0.0.9"}}
	withHost := instance()
	withHost["spec"].(map[string]any)["host"] = "web.example.com"
	tests := []struct {
		name     string
		instance map[string]any
		observed map[string]map[string]any
		errors   []string
		want     map[string]any
		message  string
	}{
		{"nothing observed", instance(), nil, nil,
			map[string]any{"phase": "Pending", "ready": false}, "waiting for cm, svc"},
		{"one of two", instance(), map[string]map[string]any{"cm": cm}, nil,
			map[string]any{"phase": "PartiallyReady", "ready": false}, "waiting for svc"},
		{"all waited for, the ignored one not observed", instance(), map[string]map[string]any{"cm": cm, "svc": svc}, nil,
			map[string]any{"phase": "Ready", "ready": true, "url": "http://10.0.0.9"}, "ready"},
		{"an included node counts", withHost, map[string]map[string]any{"cm": cm, "svc": svc}, nil,
			map[string]any{"phase": "PartiallyReady", "ready": false}, "waiting for "},
		{"errors", instance(), map[string]map[string]any{"cm": cm, "svc": svc}, []string{"apply svc: forbidden"},
			map[string]any{"phase": "Error", "ready": false}, "waiting for "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := evaluate(t, g, render.Input{Instance: tt.instance, Observed: tt.observed}, render.StatusOptions{Errors: tt.errors})
			assert.Empty(t, rep.Errors)
			cond := rep.Status["conditions"].([]any)[0].(map[string]any)
			assert.Equal(t, tt.want["phase"], cond["reason"], "one rule, read by two fields")
			assert.Equal(t, tt.message, cond["message"])
			delete(rep.Status, "conditions")
			assert.Equal(t, tt.want, rep.Status)
		})
	}
}

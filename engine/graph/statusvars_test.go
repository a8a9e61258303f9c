package graph_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// withVars is a graph with the given vars, a ConfigMap and a Service, and a status.
func withVars(vars, cm string) string {
	return strings.Replace(header, "  resources:\n", "  vars:\n"+vars+"  resources:\n", 1) + cm + `  - id: svc
    template: {apiVersion: v1, kind: Service, metadata: {name: s}}
  status:
    phase: ${ vars.phase }
`
}

const plainCM = `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
`

// TestStatusVars: a var that reads ready.<id>, errors, allReady, anyReady or a status var
// is a status var; one that reads none is not.
func TestStatusVars(t *testing.T) {
	vars := `    name: ${ schema.metadata.name }
    ok: ${ size(errors) == 0 && ready.svc }
    phase: '${ !vars.ok ? "Pending" : allReady ? "Ready" : anyReady ? "PartiallyReady" : "Pending" }'
    url: '${ vars.ok ? optional.of("http://" + svc.spec.clusterIP) : optional.none() }'
`
	g, err := graph.Load("g.yaml", []byte(withVars(vars, plainCM)), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	status := map[string]bool{}
	for _, v := range g.Vars {
		status[v.Name] = v.Status
	}
	assert.Equal(t, map[string]bool{"name": false, "ok": true, "phase": true, "url": true}, status)
}

// TestStatusVarErrors: a status var read where readiness is not known yet is a load error
// naming the place and the status name that makes it a status var.
func TestStatusVarErrors(t *testing.T) {
	vars := `    ok: ${ ready.svc }
    phase: '${ vars.ok ? "Ready" : "Pending" }'
`
	tests := []struct {
		name string
		vars string
		cm   string
		want []string
	}{
		{"template", vars, `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {phase: "${vars.phase}"}}
`, []string{"g.yaml:11:87:", "resource cm, field data.phase", "reads vars.phase, a status var (it reads vars.ok, a status var)", "only status and other status vars may read it", "${vars.phase}"}},
		{"includeWhen", vars, `  - id: cm
    includeWhen: ['${ vars.ok }']
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
`, []string{"g.yaml:11:22:", "resource cm, field includeWhen[0]", "reads vars.ok, a status var (it reads ready.svc)"}},
		{"readyWhen", vars, `  - id: cm
    readyWhen: ['${ vars.ok }']
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
`, []string{"g.yaml:11:20:", "resource cm, field readyWhen[0]", "reads vars.ok, a status var"}},
		{"check", vars + "  checks:\n  - {rule: '${ vars.ok }', message: m}\n", plainCM, []string{"checks[0], field rule", "reads vars.ok, a status var"}},
		{"errors in a check", "    phase: x\n  checks:\n  - {rule: '${ size(errors) == 0 }', message: m}\n", plainCM, []string{"undeclared reference to 'errors'"}},
		{"ready in a template", "    phase: x\n", `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "${string(allReady)}"}}
`, []string{"resource cm, field data.a", "undeclared reference to 'allReady'"}},
	}
	s := enginetest.Schemas(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := graph.Load("g.yaml", []byte(withVars(tt.vars, tt.cm)), graph.WithSchemas(s))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestIgnoreReadiness is a literal boolean on a resource, false when absent; a read
// takes none.
func TestIgnoreReadiness(t *testing.T) {
	src := header + `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: np
    ignoreReadiness: true
    template: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: n}}
`
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	cm, _ := g.Node("cm")
	np, _ := g.Node("np")
	assert.False(t, cm.IgnoreReadiness)
	assert.True(t, np.IgnoreReadiness)

	read := header + `  - id: other
    ignoreReadiness: true
    read: {apiVersion: v1, kind: ConfigMap, name: o}
`
	_, err = graph.Load("g.yaml", []byte(read), graph.WithSchemas(enginetest.Schemas(t)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.resources[other].ignoreReadiness: a resource with read is never applied: remove ignoreReadiness")
}

package graph_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// schemas types graphs with the built-in kinds and the engine's test CRD (kind App).

const header = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
`

func TestLoadSample(t *testing.T) {
	g := enginetest.LoadGraph(t, enginetest.SampleGraph(), enginetest.Schemas(t))
	var ids []string
	for _, n := range g.Nodes {
		ids = append(ids, n.ID)
	}
	assert.Equal(t, []string{"settings", "deployment", "service"}, ids)
	dep, _ := g.Node("deployment")
	assert.Equal(t, []string{"settings"}, dep.Deps)
	assert.Equal(t, "apps", dep.Kind.GVK.Group)
}

// TestLoadErrors holds one case per class of bad graph. Each message must say where
// (file:line:col), which resource, which field, the expression, and what was expected.
func TestLoadErrors(t *testing.T) {
	tests := []loadError{
		{
			name: "type mismatch",
			resources: `  - id: deployment
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: x}
      spec:
        replicas: ${schema.spec.image}
`,
			want: []string{"g.yaml:13:21:", "resource deployment", "field spec.replicas", "expected int, got string", "${schema.spec.image}"},
		},
		{
			name: "literal of the wrong type",
			resources: `  - id: svc
    template:
      apiVersion: v1
      kind: Service
      metadata: {name: x}
      spec:
        ports: [{port: eighty}]
`,
			want: []string{"g.yaml:13:24:", "resource svc", "field spec.ports[0].port", "expected int, got string eighty"},
		},
		{
			name: "unknown field",
			resources: `  - id: svc
    template:
      apiVersion: v1
      kind: Service
      metadata: {name: x}
      spec:
        clusterIp: None
`,
			want: []string{"g.yaml:13:9:", "resource svc", "field spec.clusterIp", `unknown field "clusterIp"`, "clusterIP"},
		},
		{
			name: "unknown id",
			resources: `  - id: svc
    template:
      apiVersion: v1
      kind: Service
      metadata: {name: "${deploy.metadata.name}"}
`,
			want: []string{"g.yaml:11:27:", "resource svc", "field metadata.name", "undeclared reference to 'deploy'", "${deploy.metadata.name}", "resource ids svc"},
		},
		{
			name: "unknown instance field",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.spec.nme}"}
`,
			want: []string{"g.yaml:11:27:", "resource cm", "field metadata.name", "undefined field 'nme'", "${schema.spec.nme}"},
		},
		{
			name: "cycle",
			resources: `  - id: a
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${b.metadata.name}"}
  - id: b
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${c.metadata.name}"}
  - id: c
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${a.metadata.name}"}
`,
			want: []string{"g.yaml:7:5:", "resource a", "dependency cycle: a → b → c → a"},
		},
		{
			name: "CEL syntax error",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name +}"}
`,
			want: []string{"g.yaml:11:27:", "resource cm", "field metadata.name", "Syntax error", "${schema.metadata.name +}"},
		},
		{
			name: "non-boolean includeWhen",
			resources: `  - id: cm
    includeWhen: ["${schema.spec.replicas}"]
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
`,
			want: []string{"g.yaml:8:22:", "resource cm", "field includeWhen[0]", "expected a bool, got int", "${schema.spec.replicas}"},
		},
		{
			name: "non-boolean readyWhen",
			resources: `  - id: cm
    readyWhen: ["${cm.metadata.name}"]
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
`,
			want: []string{"g.yaml:8:20:", "resource cm", "field readyWhen[0]", "expected a bool, got string", "${cm.metadata.name}"},
		},
		{
			name: "unknown kind",
			resources: `  - id: x
    template:
      apiVersion: example.com/v1
      kind: Widget
      metadata: {name: x}
`,
			want: []string{"g.yaml:9:7:", "resource x", "unknown kind example.com/v1 Widget"},
		},
		{
			name: "reads itself",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
      data: {a: "${cm.metadata.name}"}
`,
			want: []string{"g.yaml:12:20:", "resource cm", "field data.a", "cannot read its own observed object"},
		},
		{
			name: "namespace set",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: x, namespace: other}
`,
			want: []string{"g.yaml:11:27:", "resource cm", "metadata.namespace", "always land in the instance's namespace"},
		},
		{
			name: "cluster-scoped kind",
			resources: `  - id: role
    template:
      apiVersion: rbac.authorization.k8s.io/v1
      kind: ClusterRole
      metadata: {name: x}
`,
			want: []string{"g.yaml:9:7:", "resource role", "cluster-scoped"},
		},
		{
			name: "bad id",
			resources: `  - id: my-deployment
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
`,
			want: []string{"g.yaml:7:9:", "spec.resources[0].id", "lowerCamelCase"},
		},
		{
			name: "duplicate id",
			resources: `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: y}}
`,
			want: []string{"g.yaml:9:9:", `duplicate resource id "cm" (first at g.yaml:7:9)`},
		},
		{
			name: "recreate not a boolean",
			resources: `  - id: cm
    recreate: "${ true }"
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
`,
			want: []string{"g.yaml:8:15:", "spec.resources[cm].recreate", "expected true or false"},
		},
		{
			name: "unterminated expression",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "x-${schema.metadata.name"}
`,
			want: []string{"g.yaml:11:27:", "unterminated expression"},
		},
		{
			name: "unquoted colon",
			resources: `  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: ${ true ? "a" : "b" }
`,
			want: []string{"g.yaml:12:", "quote the whole value"},
		},
	}
	assertLoadErrors(t, tests)
}

// TestLoadFlags: shared and recreate are literal booleans on a resource, false when absent.
func TestLoadFlags(t *testing.T) {
	src := header + `  - id: plain
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
  - id: sa
    shared: true
    template: {apiVersion: v1, kind: ServiceAccount, metadata: {name: b}}
  - id: deployment
    recreate: true
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: c}
      spec: {selector: {matchLabels: {app: c}}, template: {metadata: {labels: {app: c}}}}
`
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	for _, tt := range []struct {
		id               string
		shared, recreate bool
	}{{"plain", false, false}, {"sa", true, false}, {"deployment", false, true}} {
		n, ok := g.Node(tt.id)
		require.True(t, ok, tt.id)
		assert.Equal(t, tt.shared, n.Shared, tt.id)
		assert.Equal(t, tt.recreate, n.Recreate, tt.id)
	}
}

func TestLoadVars(t *testing.T) {
	src := strings.Replace(header, "  resources:\n", `  vars:
    b: ${ vars.a + "-b" }
    a: ${ schema.metadata.name }
    n: ${ size(vars.b) }
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${vars.b}"}
      data: {n: "${string(vars.n)}"}
`, 1)
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	var names []string
	for _, v := range g.Vars {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"a", "b", "n"}, names, "vars run after the vars they read")

	cyclic := strings.Replace(src, `a: ${ schema.metadata.name }`, `a: '${ vars.n > 0 ? "x" : "y" }'`, 1)
	_, err = graph.Load("g.yaml", []byte(cyclic), graph.WithSchemas(enginetest.Schemas(t)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dependency cycle: b → a → n → b")

	typed := strings.Replace(src, `data: {n: "${string(vars.n)}"}`, `data: {n: "${vars.n}"}`, 1)
	_, err = graph.Load("g.yaml", []byte(typed), graph.WithSchemas(enginetest.Schemas(t)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "field data.n: expected string, got int")
}

// TestDefaultReadyWhen: a resource without readyWhen gets its kind's default rules, named
// as such; one with readyWhen keeps its own; a kind without a rule gets none.
func TestDefaultReadyWhen(t *testing.T) {
	s := enginetest.Schemas(t, enginetest.GadgetCRD()) // a status without conditions
	src := header + `  - id: deployment
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
  - id: own
    readyWhen: ['${ own.?status.?readyReplicas.orValue(0) > 0 }']
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: o}}
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: app
    template: {apiVersion: example.loom.dev/v1, kind: App, metadata: {name: a}, spec: {image: x}}
  - id: gadget
    template: {apiVersion: test.loom.dev/v1, kind: Gadget, metadata: {name: g}, spec: {image: x}}
`
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(s))
	require.NoError(t, err)
	paths := map[string][]string{}
	for _, n := range g.Nodes {
		paths[n.ID] = []string{}
		for _, e := range n.ReadyWhen {
			paths[n.ID] = append(paths[n.ID], e.Path)
		}
	}
	assert.Equal(t, map[string][]string{
		"deployment": {"readyWhen (Deployment's default)[0]", "readyWhen (Deployment's default)[1]"},
		"own":        {"readyWhen[0]"},
		"cm":         {},
		"app":        {"readyWhen (App's default)[0]"},
		"gadget":     {},
	}, paths)
	app, _ := g.Node("app")
	assert.Contains(t, app.ReadyWhen[0].Source, `app.?status.?conditions.orValue([]).exists(c, c.type == "Ready" && c.status == "True" && c.?observedGeneration`)
}

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
		t.Run(tt.name, func(t *testing.T) { assertLoadError(t, s, withVars(tt.vars, tt.cm), tt.want) })
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

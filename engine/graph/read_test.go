package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

func TestLoadReads(t *testing.T) {
	src := header + `  - id: ca
    read: {apiVersion: v1, kind: Secret, name: "${schema.metadata.name}-ca"}
  - id: peers
    read:
      apiVersion: example.loom.dev/v1
      kind: App
      namespace: "*"
      selector: {matchLabels: {tier: web}}
      instanceKey: '${ item.metadata.namespace + "/" + item.spec.image }'
      filter: ${ item.spec.replicas > 1 }
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: copy}
      data: '${ {"ca": string(ca.data["ca.crt"]), "peers": string(size(peers))} }'
`
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	require.Len(t, g.Reads, 2)
	ca, peers := g.Reads[0], g.Reads[1]
	assert.False(t, ca.Collection())
	assert.Equal(t, "Secret", ca.Kind.GVK.Kind)
	assert.True(t, peers.Collection())
	assert.Equal(t, "*", peers.Namespace)
	assert.Equal(t, map[string]string{"tier": "web"}, peers.MatchLabels)
	assert.Equal(t, graph.DefaultMaxReadItems, peers.MaxItems)
	n, _ := g.Node("copy")
	assert.Equal(t, []string{"ca", "peers"}, n.Deps)
}

// TestLoadReadErrors: mistakes in reads and in expressions over read items are load errors
// like every other, with file:line:col, the resource, the field and the expression.
func TestLoadReadErrors(t *testing.T) {
	tests := []loadError{
		{
			name: "wrong field on a collection's item",
			resources: `  - id: peers
    read: {apiVersion: example.loom.dev/v1, kind: App}
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: copy}
      data: '${ {"first": peers[0].spec.imag} }'
`,
			want: []string{"g.yaml:14:", "resource copy, field data", "undefined field 'imag'", `${ {"first": peers[0].spec.imag} }`},
		},
		{
			name: "wrong field in a filter",
			resources: `  - id: peers
    read: {apiVersion: example.loom.dev/v1, kind: App, filter: '${ item.spec.replica > 1 }'}
`,
			want: []string{"g.yaml:8:", "resource peers, field read.filter", "undefined field 'replica'", "${ item.spec.replica > 1 }"},
		},
		{
			name: "wrong type from a read by name",
			resources: `  - id: other
    read: {apiVersion: example.loom.dev/v1, kind: App, name: other}
  - id: deployment
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: x}
      spec:
        replicas: ${ other.spec.image }
`,
			want: []string{"g.yaml:15:", "resource deployment, field spec.replicas", "expected int, got string", "${ other.spec.image }"},
		},
		{
			name: "instanceKey sees only the item",
			resources: `  - id: peers
    read: {apiVersion: example.loom.dev/v1, kind: App, instanceKey: '${ schema.metadata.name }'}
`,
			want: []string{"g.yaml:8:", "resource peers, field read.instanceKey", "undeclared reference to 'schema'", "instanceKey sees only item"},
		},
		{
			name: "instanceKey of the wrong type",
			resources: `  - id: peers
    read: {apiVersion: example.loom.dev/v1, kind: App, instanceKey: '${ item.spec.replicas }'}
`,
			want: []string{"resource peers, field read.instanceKey", "expected a string (namespace/name of the instance) or a list of strings, got int"},
		},
		{
			name: "a filter on a read by name",
			resources: `  - id: one
    read: {apiVersion: v1, kind: Secret, name: x, filter: '${ true }'}
`,
			want: []string{"g.yaml:8:", "spec.resources[one].read.filter", "a read by name reads one object"},
		},
		{
			name: "a read with a template",
			resources: `  - id: one
    read: {apiVersion: v1, kind: Secret, name: x}
    template: {apiVersion: v1, kind: Secret, metadata: {name: x}}
`,
			want: []string{"g.yaml:9:", "spec.resources[one].template", "never applied"},
		},
		{
			name: "an unknown kind",
			resources: `  - id: one
    read: {apiVersion: v1, kind: Nope, name: x}
`,
			want: []string{"g.yaml:8:", "resource one, field read", "unknown kind"},
		},
		{
			name: "a check reads a read by name",
			resources: `  - id: one
    read: {apiVersion: v1, kind: Secret, name: x}
  checks:
  - rule: ${ has(one.data) }
    message: m
`,
			want: []string{"checks[0]", `reads "one", a read by name`},
		},
		{
			name: "a read's name reads an object",
			resources: `  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
  - id: one
    read: {apiVersion: v1, kind: Secret, name: '${ cm.metadata.name }'}
`,
			want: []string{"resource one, field read.name", `reads "cm": a read's name may read schema, config and vars only`},
		},
	}
	assertLoadErrors(t, tests)
}

package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// TestLoadCollection: forEach makes a collection whose template sees each, typed as the
// list's element; other nodes see the collection's id as a list of its objects.
func TestLoadCollection(t *testing.T) {
	src := header + `  - id: files
    forEach: '${ schema.spec.env.map(k, {"key": k, "value": schema.spec.env[k]}) }'
    maxItems: 7
    readyWhen: ["${ files.all(f, has(f.data)) }"]
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-${each.key}"}
      data: {value: "${each.value}"}
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: summary}
      data: {count: "${string(size(files))}", first: "${files[0].metadata.name}"}
`
	g, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	files, _ := g.Node("files")
	require.True(t, files.Collection())
	assert.Equal(t, 7, files.MaxItems)
	summary, _ := g.Node("summary")
	assert.False(t, summary.Collection())
	assert.Equal(t, []string{"files"}, summary.Deps, "reading a collection is an edge like any other")

	dflt, err := graph.Load("g.yaml", []byte(header+`  - id: files
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "x-${each}"}}
`), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	n, _ := dflt.Node("files")
	assert.Equal(t, graph.DefaultMaxItems, n.MaxItems)
}

// TestLoadCollectionErrors: each misuse of forEach and each is a load error at its place.
func TestLoadCollectionErrors(t *testing.T) {
	tests := []loadError{
		{
			name: "forEach not a list",
			resources: `  - id: files
    forEach: ${ schema.spec.image }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:8:16:", "resource files, field forEach: expected a list, got string", "${ schema.spec.image }"},
		},
		{
			name: "name from the instance only",
			resources: `  - id: files
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${schema.metadata.name}"}}
`,
			want: []string{"g.yaml:9:66:", "resource files, field metadata.name: a collection's objects need a name from their item: make metadata.name read each"},
		},
		{
			name: "literal name",
			resources: `  - id: files
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: files}}
`,
			want: []string{"g.yaml:9:66:", "resource files, field metadata.name: a collection's objects need a name from their item"},
		},
		{
			name: "each typed as the element",
			resources: `  - id: files
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}, data: {n: "${each.size}"}}
`,
			want: []string{"g.yaml:9:", "resource files, field data.n", "each.size"},
		},
		{
			name: "each outside a collection",
			resources: `  - id: files
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:8:", "resource files, field metadata.name", "undeclared reference to 'each'", "a collection's template and a check with forEach, each"},
		},
		{
			name: "each in includeWhen",
			resources: `  - id: files
    forEach: ${ ["a", "b"] }
    includeWhen: ["${ each == 'a' }"]
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:9:", "resource files, field includeWhen[0]", "undeclared reference to 'each'"},
		},
		{
			name: "forEach reads its own objects",
			resources: `  - id: files
    forEach: ${ files.map(f, f.metadata.name) }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:8:16:", "resource files, field forEach", "cannot read its own observed object"},
		},
		{
			name: "a collection read as one object",
			resources: `  - id: files
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
  - id: summary
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${files.metadata.name}"}}
`,
			want: []string{"g.yaml:11:69:", "resource summary, field metadata.name", "does not support field selection"},
		},
		{
			name: "shared collection",
			resources: `  - id: files
    shared: true
    forEach: ${ ["a", "b"] }
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:9:14:", "spec.resources[files].forEach: a shared resource is one object per namespace"},
		},
		{
			name: "maxItems without forEach",
			resources: `  - id: files
    maxItems: 3
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
`,
			want: []string{"g.yaml:8:15:", "spec.resources[files].maxItems: maxItems bounds the items of forEach"},
		},
		{
			name: "maxItems not positive",
			resources: `  - id: files
    forEach: ${ ["a"] }
    maxItems: 0
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: "${each}"}}
`,
			want: []string{"g.yaml:9:15:", "spec.resources[files].maxItems: expected a positive integer"},
		},
	}
	assertLoadErrors(t, tests)
}

package render_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/render"
)

// settingsResource is a graph's one resource, a ConfigMap; data may follow.
const settingsResource = `  resources:
  - id: settings
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
`

// Functions expand where they are called: each call types its own arguments (an
// optional string, an int), a body calls the functions above it, and neither a body's
// comprehension variable nor a parameter captures a caller's variable of the same name.
func TestRenderFunctions(t *testing.T) {
	g := load(t, `  functions:
    orDefault(s, d): '${ s.orValue("").trim() != "" ? s.value() : d }'
    inRange(n, lo, hi): ${ n >= lo && n <= hi }
    hostOr(d): ${ orDefault(schema.spec.?host, d) }
    hasAll(l, x): ${ l.all(e, e != x) }
  vars:
    host: ${ hostOr(schema.metadata.name + ".apps.local") }
  checks:
  - rule: ${ inRange(schema.spec.port, 1, 65535) }
    field: spec.port
    message: must be a port
`+settingsResource+`      data:
        host: ${ vars.host }
        env: '${ orDefault(schema.spec.?env.?MODE, "prod") }'
        captured: '${ json.encode([1, 2].map(e, hasAll([3, 4], e))) }'
        nested: '${ json.encode([[1, 2]].map(l, hasAll(l, l[0]))) }'
`)
	for _, tc := range []struct {
		name string
		spec map[string]any
		want map[string]any
	}{
		{"defaults", map[string]any{"image": "nginx"},
			map[string]any{"host": "web.apps.local", "env": "prod", "captured": "[true,true]", "nested": "[false]"}},
		{"blank counts as unset", map[string]any{"image": "nginx", "host": " ", "env": map[string]any{"MODE": "dev"}},
			map[string]any{"host": "web.apps.local", "env": "dev", "captured": "[true,true]", "nested": "[false]"}},
		{"set", map[string]any{"image": "nginx", "host": "a.example"},
			map[string]any{"host": "a.example", "env": "prod", "captured": "[true,true]", "nested": "[false]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := render.Render(context.Background(), g, render.Input{Instance: app(tc.spec), Validate: true})
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			require.Equal(t, render.Rendered, res.Nodes[0].State, res.Nodes[0].Reason)
			assert.Equal(t, tc.want, res.Nodes[0].Object["data"])
		})
	}

	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "nginx", "port": int64(0)})})
	require.NoError(t, err)
	assert.Equal(t, []string{"spec.port: must be a port"}, res.Errors)
}

// A check with forEach is made once per item, in order, each failure naming its own field
// and message; an empty list checks nothing.
func TestRenderCheckForEach(t *testing.T) {
	g := load(t, `  checks:
  - forEach: '${ [["spec.port", schema.spec.port], ["spec.replicas", schema.spec.replicas]] }'
    rule: ${ each[1] >= 1 }
    field: ${ string(each[0]) }
    message: must be at least 1, not ${ each[1] }
  - forEach: '${ schema.spec.?env.orValue({}).transformList(k, v, [k, v]) }'
    rule: ${ each[1] != "" }
    field: spec.env
    message: ${ each[0] } has no value
`+settingsResource)
	for _, tc := range []struct {
		name string
		spec map[string]any
		want []string
	}{
		{"passes", map[string]any{"image": "nginx"}, nil},
		{"both fail, in order", map[string]any{"image": "nginx", "port": int64(0), "replicas": int64(-1)},
			[]string{"spec.port: must be at least 1, not 0", "spec.replicas: must be at least 1, not -1"}},
		{"one item of a map", map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": ""}},
			[]string{"spec.env: B has no value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := render.Render(context.Background(), g, render.Input{Instance: app(tc.spec)})
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Errors)
			assert.Equal(t, tc.want != nil, res.Invalid)
		})
	}
}

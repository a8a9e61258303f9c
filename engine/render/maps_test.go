package render_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/render"
)

// The map functions and cel.bind in a graph, as the README's tour writes them: through
// vars, into labels (typed map(string, string)) and into JSON.
func TestRenderMapFunctions(t *testing.T) {
	g := load(t, `  vars:
    labels: '${ {"app": schema.metadata.name} }'
    host: ${ schema.spec.?host.orValue(schema.metadata.name + ".apps.local") }
  resources:
  - id: settings
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: settings
        labels: '${ vars.labels.merge({"tier": "web"}) }'
      data:
        env: '${ json.encode({"env": {"MODE": "dev", "LOG": "info"}}.deepMerge({"env": schema.spec.?env.orValue({})})) }'
        spec: '${ json.encode(dyn(schema.spec).deepMerge({"env": {"LOG": null}}).omit(["port", "replicas"])) }'
        public: '${ json.encode(schema.spec.env.omit(["DEBUG"])) }'
        hosts: '${ cel.bind(h, vars.host, h + "," + "www." + h) }'
`)
	res, err := render.Render(context.Background(), g, render.Input{
		Instance: app(map[string]any{"image": "nginx", "env": map[string]any{"DEBUG": "1", "MODE": "prod", "LOG": "x"}}), Validate: true})
	require.NoError(t, err)
	n := res.Nodes[0]
	require.Equal(t, render.Rendered, n.State, n.Reason)
	meta := n.Object["metadata"].(map[string]any)
	assert.Equal(t, "web", meta["labels"].(map[string]any)["tier"])
	assert.Equal(t, "web", meta["labels"].(map[string]any)["app"])
	assert.Equal(t, map[string]any{
		"env":    `{"env":{"DEBUG":"1","LOG":"x","MODE":"prod"}}`,
		"spec":   `{"env":{"DEBUG":"1","MODE":"prod"},"image":"nginx"}`,
		"public": `{"LOG":"x","MODE":"prod"}`,
		"hosts":  "web.apps.local,www.web.apps.local",
	}, n.Object["data"])
}

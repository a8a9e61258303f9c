package render_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
)

func cm(ns, name string, labels map[string]any, data map[string]any) map[string]any {
	meta := map[string]any{"name": name, "namespace": ns}
	if labels != nil {
		meta["labels"] = labels
	}
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
}

func list(items ...map[string]any) map[string]any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": out}
}

func renderWith(t *testing.T, g *graph.Graph, observed map[string]map[string]any) *render.Result {
	t.Helper()
	res, err := render.Render(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "nginx"}), Observed: observed, Validate: true})
	require.NoError(t, err)
	return res
}

func TestReadByName(t *testing.T) {
	g := load(t, `  resources:
  - id: ca
    read: {apiVersion: v1, kind: ConfigMap, name: "${schema.metadata.name}-ca"}
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: copy}
      data: {ca: '${ ca.data["ca.crt"] }'}
  - id: other
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: other}}
`)
	require.Len(t, g.Reads, 1)
	assert.Len(t, g.Nodes, 2, "a read is not a node to apply")
	n, _ := g.Node("copy")
	assert.Equal(t, []string{"ca"}, n.Deps)

	// Absent: its reader waits, saying for what; the rest renders; nothing is an error.
	res := renderWith(t, g, nil)
	c, _ := res.Node("copy")
	assert.Equal(t, render.Waiting, c.State)
	assert.Equal(t, "waiting for ca (ConfigMap team/web-ca) to exist", c.Reason)
	assert.Equal(t, map[string]render.State{"ca": render.Waiting}, res.Reads)
	o, _ := res.Node("other")
	assert.Equal(t, render.Rendered, o.State)
	assert.Empty(t, res.Errors)

	res = renderWith(t, g, map[string]map[string]any{"ca": cm("team", "web-ca", nil, map[string]any{"ca.crt": "PEM"})})
	c, _ = res.Node("copy")
	require.Equal(t, render.Rendered, c.State, c.Reason)
	assert.Equal(t, map[string]any{"ca": "PEM"}, c.Object["data"])
	assert.Equal(t, map[string]render.State{"ca": render.Rendered}, res.Reads)
}

func TestReadByNameThroughVarWaits(t *testing.T) {
	g := load(t, `  vars:
    ca: '${ ca.data["ca.crt"] }'
  resources:
  - id: ca
    read: {apiVersion: v1, kind: ConfigMap, name: ca, namespace: certs}
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: copy}
      data: {ca: '${ vars.ca }'}
  status:
    phase: Pending
    url: ${ vars.ca }
`)
	n, _ := g.Node("copy")
	assert.Equal(t, []string{"ca"}, n.Deps, "a node depends on the reads of the vars it reads")
	res := renderWith(t, g, nil)
	c, _ := res.Node("copy")
	assert.Equal(t, render.Waiting, c.State)
	assert.Equal(t, "waiting for ca (ConfigMap certs/ca) to exist", c.Reason)
	rep, err := render.Status(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "nginx"})}, res, render.StatusOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"phase": "Pending"}, rep.Status, "a status field waiting on a read is left out, not an error")
	assert.Empty(t, rep.Errors)
	assert.Empty(t, res.Errors)
}

// What the controller fetches before it renders: the reads by name not skipped, their
// names and includeWhen computing the vars they read.
func TestReadTargetsComputeTheirVars(t *testing.T) {
	g := load(t, `  vars:
    wanted: ${ schema.spec.image == "nginx" }
    caName: ${ schema.metadata.name + "-ca" }
  resources:
  - id: ca
    includeWhen: ['${ vars.wanted }']
    read: {apiVersion: v1, kind: ConfigMap, name: '${ vars.caName }'}
  - id: skipped
    includeWhen: ['${ !vars.wanted }']
    read: {apiVersion: v1, kind: ConfigMap, name: other}
  - id: copy
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: copy}, data: {ca: '${ ca.data["ca.crt"] }'}}
`)
	targets, err := render.ReadTargets(context.Background(), g, render.Input{Instance: app(map[string]any{"image": "nginx"})})
	require.NoError(t, err)
	require.Len(t, targets, 1, "%v", targets)
	assert.Equal(t, "web-ca", targets["ca"].Name)
	assert.Equal(t, "team", targets["ca"].Namespace)
}

const collectionGraph = `  resources:
  - id: peers
    read:
      apiVersion: v1
      kind: ConfigMap
      namespace: %s
      selector: {matchLabels: {role: peer}}
      filter: '${ item.data.?enabled.orValue("true") == "true" && item.metadata.name != schema.metadata.name }'
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: summary}
      data: '${ {"peers": peers.map(p, p.metadata.namespace + "/" + p.metadata.name).join(",")} }'
`

func TestReadCollection(t *testing.T) {
	peer := map[string]any{"role": "peer"}
	items := list(
		cm("team", "zeta", peer, nil),
		cm("team", "alpha", peer, nil),
		cm("team", "off", peer, map[string]any{"enabled": "false"}), // filtered out
		cm("team", "web", peer, nil),                                // the instance's own name: filtered out
		cm("team", "stranger", nil, nil),                            // no label
		cm("other", "beta", peer, nil),                              // another namespace
	)
	for _, tc := range []struct {
		name, namespace, want string
	}{
		{"instance's namespace", "team", "team/alpha,team/zeta"},
		{"a fixed namespace", "other", "other/beta"},
		{"all namespaces, sorted by namespace then name", `"*"`, "other/beta,team/alpha,team/zeta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf(collectionGraph, tc.namespace)
			if tc.namespace == "team" { // the instance's namespace: namespace left out
				src = fmt.Sprintf(collectionGraph, `""`)
				src = removeLine(src, `      namespace: ""`)
			}
			g := load(t, src)
			res := renderWith(t, g, map[string]map[string]any{"peers": items})
			s, _ := res.Node("summary")
			require.Equal(t, render.Rendered, s.State, s.Reason)
			assert.Equal(t, map[string]any{"peers": tc.want}, s.Object["data"])
		})
	}

	t.Run("nothing observed is an empty collection", func(t *testing.T) {
		g := load(t, fmt.Sprintf(collectionGraph, `"*"`))
		res := renderWith(t, g, nil)
		s, _ := res.Node("summary")
		require.Equal(t, render.Rendered, s.State, s.Reason)
		assert.Equal(t, map[string]any{"peers": ""}, s.Object["data"])
	})
}

func removeLine(src, line string) string {
	return strings.Replace(src, line+"\n", "", 1)
}

func TestReadInstanceKey(t *testing.T) {
	g := load(t, `  resources:
  - id: grants
    read:
      apiVersion: v1
      kind: ConfigMap
      namespace: "*"
      instanceKey: '${ item.data.?serverNamespace.orValue(item.metadata.namespace) + "/" + item.data.server }'
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: summary}
      data: '${ {"grants": grants.map(p, p.metadata.namespace + "/" + p.metadata.name).join(",")} }'
`)
	items := list(
		cm("team", "mine", nil, map[string]any{"server": "web"}),
		cm("elsewhere", "cross", nil, map[string]any{"server": "web", "serverNamespace": "team"}),
		cm("elsewhere", "not-mine", nil, map[string]any{"server": "web"}), // elsewhere/web
		cm("team", "other-server", nil, map[string]any{"server": "api"}),
	)
	res := renderWith(t, g, map[string]map[string]any{"grants": items})
	s, _ := res.Node("summary")
	require.Equal(t, render.Rendered, s.State, s.Reason)
	assert.Equal(t, map[string]any{"grants": "elsewhere/cross,team/mine"}, s.Object["data"])

	rd, _ := g.Read("grants")
	keys, err := render.ReadKeys(context.Background(), rd, cm("elsewhere", "cross", nil, map[string]any{"server": "web", "serverNamespace": "team"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"team/web"}, keys)
}

func TestReadLimits(t *testing.T) {
	many := make([]map[string]any, 30)
	for i := range many {
		many[i] = cm("team", fmt.Sprintf("c%02d", i), nil, map[string]any{"k": "v"})
	}
	t.Run("maxItems", func(t *testing.T) {
		g := load(t, `  resources:
  - id: all
    read: {apiVersion: v1, kind: ConfigMap, maxItems: 20}
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: summary}
      data: '${ {"n": string(size(all))} }'
`)
		res := renderWith(t, g, map[string]map[string]any{"all": list(many...)})
		s, _ := res.Node("summary")
		assert.Equal(t, render.Error, s.State)
		assert.Equal(t, "reads all, which failed", s.Reason)
		require.NotEmpty(t, res.Errors)
		assert.Equal(t, "resource all: 30 ConfigMap objects selected, more than the read's limit of 20 (read.maxItems)", res.Errors[0])
	})
	t.Run("the render's budget", func(t *testing.T) {
		g := load(t, `  resources:
  - id: all
    read: {apiVersion: v1, kind: ConfigMap, filter: '${ item.data.all(k, v, v.size() > 0) }'}
  - id: summary
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: summary}
      data: '${ {"n": string(size(all))} }'
`, graph.WithCostBudget(200))
		res := renderWith(t, g, map[string]map[string]any{"all": list(many...)})
		s, _ := res.Node("summary")
		assert.Equal(t, render.Error, s.State)
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0], "resource all, field read.filter")
		assert.Contains(t, res.Errors[0], cel.ErrBudget.Error(), "the error names the budget")
	})
}

func TestReadIncludeWhen(t *testing.T) {
	g := load(t, `  resources:
  - id: ca
    includeWhen: ['${ schema.spec.?host.hasValue() }']
    read: {apiVersion: v1, kind: ConfigMap, name: ca}
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: copy}
      data: {ca: '${ ca.data["ca.crt"] }'}
`)
	res := renderWith(t, g, nil)
	c, _ := res.Node("copy")
	assert.Equal(t, render.Skipped, c.State)
	assert.Equal(t, "reads ca, which is skipped", c.Reason)
	assert.Equal(t, map[string]render.State{"ca": render.Skipped}, res.Reads, "the controller needs no skipped read")
}

package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// widgetCRD is a CRD kind whose status has no conditions.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.loom.dev}
spec:
  group: example.loom.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {phase: {type: string}}}
`

// TestDefaultReadyWhen: a resource without readyWhen gets its kind's default rules, named
// as such; one with readyWhen keeps its own; a kind without a rule gets none.
func TestDefaultReadyWhen(t *testing.T) {
	s := enginetest.Schemas(t)
	_, err := s.AddCRD([]byte(widgetCRD), "widget.yaml")
	require.NoError(t, err)
	src := header + `  - id: deployment
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
  - id: own
    readyWhen: ['${ own.?status.?readyReplicas.orValue(0) > 0 }']
    template: {apiVersion: apps/v1, kind: Deployment, metadata: {name: o}}
  - id: cm
    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - id: app
    template: {apiVersion: example.loom.dev/v1, kind: App, metadata: {name: a}, spec: {image: x}}
  - id: widget
    template: {apiVersion: example.loom.dev/v1, kind: Widget, metadata: {name: w}}
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
		"widget":     {},
	}, paths)
	app, _ := g.Node("app")
	assert.Contains(t, app.ReadyWhen[0].Source, `app.?status.?conditions.orValue([]).exists(c, c.type == "Ready" && c.status == "True" && c.?observedGeneration`)
}

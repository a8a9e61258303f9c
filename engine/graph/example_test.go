package graph_test

import (
	"fmt"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
)

// A graph of two resources, typed by the built-in kinds and the App CRD: Load orders them by
// what they read (the Deployment reads the ConfigMap it mounts).
func ExampleLoad() {
	schemas, err := input.Schemas("../../testdata/engine/crd.yaml")
	if err != nil {
		panic(err)
	}
	g, err := graph.Load("app.yaml", []byte(`
apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: app}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: deployment
    template:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: "${schema.metadata.name}"}
      spec:
        selector: {matchLabels: {app: "${schema.metadata.name}"}}
        template:
          metadata: {labels: {app: "${schema.metadata.name}"}}
          spec:
            containers:
            - {name: app, image: "${schema.spec.image}", envFrom: [{configMapRef: {name: "${settings.metadata.name}"}}]}
  - id: settings
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-settings"}
`), graph.WithSchemas(schemas))
	if err != nil {
		panic(err)
	}
	for _, n := range g.Nodes {
		fmt.Printf("%s (%s) reads %v\n", n.ID, n.Kind.GVK.Kind, n.Deps)
	}
	// Output:
	// settings (ConfigMap) reads []
	// deployment (Deployment) reads [settings]
}

// Every problem comes back at once, each with file:line:col, the resource, the field path
// and the expression.
func ExampleLoad_errors() {
	schemas, err := input.Schemas("../../testdata/engine/crd.yaml")
	if err != nil {
		panic(err)
	}
	_, err = graph.Load("app.yaml", []byte(`
apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: app}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: settings
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.spec.replicas}", labels: {app: "${schema.spec.imag}"}}
`), graph.WithSchemas(schemas))
	fmt.Println(err)
	// Output:
	// app.yaml:12:27: resource settings, field metadata.name: expected string, got int
	//     in ${schema.spec.replicas}
	// app.yaml:12:68: resource settings, field metadata.labels.app: undefined field 'imag'; did you mean `image`?
	//  | schema.spec.imag
	//  | ...........^
	//     in ${schema.spec.imag}
}

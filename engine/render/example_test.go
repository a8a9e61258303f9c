package render_test

import (
	"context"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
)

// The engine's sample graph (a ConfigMap, a Deployment that mounts it, a Service) for one
// App, with nothing observed yet: the ConfigMap and the Service render; the Deployment
// waits, because it reads the ConfigMap's observed name.
func ExampleRender() {
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	if err != nil {
		panic(err)
	}
	in := render.Input{Instance: map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team"},
		"spec":     map[string]any{"image": "nginx:1.27", "replicas": int64(1), "port": int64(8080)},
	}}
	res, err := render.Render(context.Background(), g, in)
	if err != nil {
		panic(err)
	}
	for _, n := range res.Nodes {
		if n.State == render.Rendered {
			fmt.Printf("%s: %s\n", n.ID, n.State)
		} else {
			fmt.Printf("%s: %s (%s)\n", n.ID, n.State, n.Reason)
		}
	}
	out, _ := yaml.Marshal(res.Nodes[2].Object)
	fmt.Print(string(out))
	// Output:
	// settings: Rendered
	// deployment: Waiting (waiting for settings to be observed)
	// service: Rendered
	// apiVersion: v1
	// kind: Service
	// metadata:
	//   labels:
	//     app: web
	//   name: web
	//   namespace: team
	// spec:
	//   ports:
	//   - name: http
	//     port: 80
	//     targetPort: 8080
	//   selector:
	//     app: web
}

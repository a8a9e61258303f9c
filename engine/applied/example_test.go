package applied_test

import (
	"context"
	"fmt"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
)

// The Service of the engine's sample graph, as the operator applies it for one App.
func ExampleObjects() {
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	if err != nil {
		panic(err)
	}
	inst := map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team", "uid": "6f1c"},
		"spec":     map[string]any{"image": "nginx:1.27", "replicas": int64(1), "port": int64(8080)},
	}
	res, err := render.Render(context.Background(), g, render.Input{Instance: inst})
	if err != nil {
		panic(err)
	}
	objs, err := applied.Objects(g, inst, res)
	if err != nil {
		panic(err)
	}
	svc := objs[len(objs)-1]
	fmt.Println(svc.GetKind(), svc.GetName(), svc.GetLabels()[applied.LabelNode], svc.GetOwnerReferences()[0].UID)
	// Output:
	// Service web service 6f1c
}

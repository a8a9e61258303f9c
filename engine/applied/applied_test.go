package applied_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
)

func app(uid string) map[string]any {
	return map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": "web", "namespace": "team", "uid": uid},
		"spec":     map[string]any{"image": "nginx:1.27", "replicas": int64(1), "port": int64(8080)},
	}
}

func sample(t *testing.T) (*graph.Graph, map[string]any, *render.Result) {
	t.Helper()
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	require.NoError(t, err)
	inst := app("0b5c1c0e-5d2a-4c1e-9d2e-000000000001")
	res, err := render.Render(context.Background(), g, render.Input{Instance: inst})
	require.NoError(t, err)
	return g, inst, res
}

func TestObjectsCarryLabelsIntentAndOwner(t *testing.T) {
	g, inst, res := sample(t)
	before := runtime.DeepCopyJSON(res.Nodes[2].Object)
	objs, err := applied.Objects(g, inst, res)
	require.NoError(t, err)
	require.Len(t, objs, 2, "settings and service render; the deployment waits")
	svc := objs[1]
	assert.Equal(t, "Service", svc.GetKind())
	assert.Equal(t, map[string]string{
		"app": "web", applied.LabelGraph: g.Name, applied.LabelNode: "service", applied.LabelInstance: "web",
	}, svc.GetLabels())
	assert.Len(t, svc.GetAnnotations()[applied.AnnotationIntent], 32)
	refs := svc.GetOwnerReferences()
	require.Len(t, refs, 1)
	assert.Equal(t, "App", refs[0].Kind)
	assert.Equal(t, "web", refs[0].Name)
	assert.EqualValues(t, "0b5c1c0e-5d2a-4c1e-9d2e-000000000001", refs[0].UID)
	require.NotNil(t, refs[0].Controller)
	assert.True(t, *refs[0].Controller)
	assert.Equal(t, before, res.Nodes[2].Object, "the rendered object is left as it was")
}

// The intent hashes the object before its ownerReference: the same for every instance
// that renders the same object (a shared one), and different when the object differs.
func TestIntentIgnoresTheOwner(t *testing.T) {
	g, _, res := sample(t)
	node := &graph.Node{ID: "policy", Shared: true}
	obj := res.Nodes[0].Object
	a, err := applied.Object(g, node, &unstructured.Unstructured{Object: app("uid-a")}, obj)
	require.NoError(t, err)
	b, err := applied.Object(g, node, &unstructured.Unstructured{Object: app("uid-b")}, obj)
	require.NoError(t, err)
	assert.Equal(t, a.GetAnnotations()[applied.AnnotationIntent], b.GetAnnotations()[applied.AnnotationIntent])
	assert.NotContains(t, a.GetLabels(), applied.LabelInstance, "a shared object belongs to no one instance")
	assert.Nil(t, a.GetOwnerReferences()[0].Controller, "a shared object has no controller")

	changed := runtime.DeepCopyJSON(obj)
	changed["data"] = map[string]any{"other": "value"}
	c, err := applied.Object(g, node, &unstructured.Unstructured{Object: app("uid-a")}, changed)
	require.NoError(t, err)
	assert.NotEqual(t, a.GetAnnotations()[applied.AnnotationIntent], c.GetAnnotations()[applied.AnnotationIntent])
}

package controllers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/render"
)

func collectionObject(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetName(name)
	u.SetNamespace("docs")
	u.SetUID(types.UID("uid-" + name))
	u.SetLabels(map[string]string{applied.LabelNode: "files"})
	return u
}

// TestCollectionPass: the live objects of a collection are kept by node and name, observed
// as one List, applied one item at a time, and an item's object is pruneable once its item
// is gone, while those of the items still listed are kept.
func TestCollectionPass(t *testing.T) {
	g, err := input.Graph("graph.yaml", "../examples/collections/graph.yaml", "../examples/collections/crd.yaml")
	require.NoError(t, err)
	files, _ := g.Node("files")
	owned := []*unstructured.Unstructured{collectionObject("site-a"), collectionObject("site-b"), collectionObject("site-c")}
	live := map[string]*unstructured.Unstructured{}
	for _, obj := range owned {
		live[liveKey(files, obj.Object)] = obj
	}
	assert.Contains(t, live, "files/site-c")
	observed := observedOf(g, live)
	require.Len(t, observed["files"]["items"], 3)

	inst := map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "Bundle",
		"metadata": map[string]any{"name": "site", "namespace": "docs"},
		"spec":     map[string]any{"files": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}},
	}
	res, err := render.Render(context.Background(), g, render.Input{Instance: inst, Observed: observed})
	require.NoError(t, err)
	n, _ := res.Node("files")
	us := units([]render.Node{n})
	require.Len(t, us, 2)
	assert.Same(t, owned[1], liveObject(g, live, us[1]), "an item's live object is found by its name")

	pruned := pruneable(g, res, observed, owned)
	require.Len(t, pruned, 1)
	assert.Equal(t, "site-c", pruned[0].GetName())

	// An apply's result takes the place of the object of its name.
	changed := collectionObject("site-b")
	changed.SetResourceVersion("2")
	setObserved(g, observed, "files", changed.Object)
	items := observed["files"]["items"].([]any)
	require.Len(t, items, 3)
	assert.Equal(t, "2", items[2].(map[string]any)["metadata"].(map[string]any)["resourceVersion"])
}

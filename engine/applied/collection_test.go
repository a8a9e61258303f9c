package applied_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
	"github.com/loom-mcp/loom/engine/render"
)

// TestObjectsOfACollection: each item's object is applied like any other, labelled with the
// collection's node.
func TestObjectsOfACollection(t *testing.T) {
	g := enginetest.CollectionsGraph(t)
	inst := map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "Bundle",
		"metadata": map[string]any{"name": "site", "namespace": "docs", "uid": "0b5c1c0e-5d2a-4c1e-9d2e-000000000002"},
		"spec":     map[string]any{"files": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}},
	}
	res, err := render.Render(context.Background(), g, render.Input{Instance: inst})
	require.NoError(t, err)
	objs, err := applied.Objects(g, inst, res)
	require.NoError(t, err)
	require.Len(t, objs, 2, "the two items render; the index waits for them")
	for i, name := range []string{"site-a", "site-b"} {
		assert.Equal(t, name, objs[i].GetName())
		assert.Equal(t, "files", objs[i].GetLabels()[applied.LabelNode])
		require.Len(t, objs[i].GetOwnerReferences(), 1)
	}
}

package enginetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
)

// CollectionsGraph loads the collections example (examples/collections: a Bundle whose
// files each become a ConfigMap), typed by its CRD.
func CollectionsGraph(t testing.TB) *graph.Graph {
	t.Helper()
	dir := filepath.Join(filepath.Dir(AppCRD()), "..", "..", "examples", "collections")
	s, err := schema.Builtin()
	require.NoError(t, err)
	crd, err := os.ReadFile(filepath.Join(dir, "crd.yaml"))
	require.NoError(t, err)
	_, err = s.AddCRD(crd, "crd.yaml")
	require.NoError(t, err)
	return LoadGraph(t, filepath.Join(dir, "graph.yaml"), s)
}

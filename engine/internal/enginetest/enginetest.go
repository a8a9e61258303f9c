// Package enginetest owns what the engine's tests share: the schemas of the engine's own
// test kind, App (testdata/engine/crd.yaml), next to the built-in kinds, and the sample
// graph. It may import engine/graph and engine/schema; only tests import it.
package enginetest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
)

// AppCRD is the path of the App CRD.
func AppCRD() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "engine", "crd.yaml")
}

// GadgetCRD is the path of the Gadget CRD of the strict checks (testdata/strict).
func GadgetCRD() string {
	return filepath.Join(filepath.Dir(AppCRD()), "..", "strict", "gadget-crd.yaml")
}

// Schemas returns the built-in kinds plus App, and the CRDs at more.
func Schemas(t testing.TB, more ...string) *schema.Set {
	t.Helper()
	s, err := schema.Builtin()
	require.NoError(t, err)
	for _, path := range append([]string{AppCRD()}, more...) {
		crd, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = s.AddCRD(crd, filepath.Base(path))
		require.NoError(t, err)
	}
	return s
}

// SampleGraph is the path of the engine's sample graph (ConfigMap, Deployment, Service).
func SampleGraph() string {
	return filepath.Join(filepath.Dir(AppCRD()), "graph.yaml")
}

// LoadGraph loads the graph file at path, typed by s.
func LoadGraph(t testing.TB, path string, s *schema.Set) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	g, err := graph.Load(path, data, graph.WithSchemas(s))
	require.NoError(t, err)
	return g
}

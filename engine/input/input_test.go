package input_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/input"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	tests := []struct {
		name, path, err string
	}{
		{"a regular file", write("ok.yaml", []byte("a: 1\n")), ""},
		{"exactly the cap", write("cap.yaml", bytes.Repeat([]byte("a"), input.MaxFileSize)), ""},
		{"one byte over the cap", write("over.yaml", bytes.Repeat([]byte("a"), input.MaxFileSize+1)), "over.yaml: larger than 3145728 bytes (3 MiB)"},
		{"a directory", dir, "is a directory"},
		{"a named pipe, with no writer", fifo, "fifo: is a named pipe"},
		{"a device that never ends", "/dev/zero", "/dev/zero: is a device"},
		{"nothing", filepath.Join(dir, "missing.yaml"), "missing.yaml: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := input.ReadFile(tt.path)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestInstanceAndObserved(t *testing.T) {
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.yaml")
	require.NoError(t, os.WriteFile(path, []byte("apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {image: x}\n"), 0o600))

	inst, err := input.Instance(path, g)
	require.NoError(t, err)
	assert.Equal(t, "default", inst["metadata"].(map[string]any)["namespace"], "a namespaced instance with none lands in default")
	assert.Equal(t, int64(8080), inst["spec"].(map[string]any)["port"], "the CRD's defaults, as int64")

	observed := filepath.Join(dir, "observed")
	require.NoError(t, os.Mkdir(observed, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(observed, "settings.yml"), []byte("metadata: {name: web-settings}\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(observed, "service.json"), []byte(`{"metadata": {"name": "web"}, "spec": {"clusterIP": "10.0.0.1"}}`), 0o600))
	objs, err := input.Observed(observed, g)
	require.NoError(t, err)
	assert.Equal(t, "ConfigMap", objs["settings"]["kind"], "kind comes from the node")
	assert.Equal(t, "10.0.0.1", objs["service"]["spec"].(map[string]any)["clusterIP"])

	require.NoError(t, os.WriteFile(filepath.Join(observed, "deployment.yaml"), []byte("kind: Service\n"), 0o600))
	_, err = input.Observed(observed, g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deployment.yaml: kind is Service, but node deployment is a apps/v1 Deployment")
}

// Instances lists every problem of every document, each with its document and field.
func TestInstancesListEveryProblem(t *testing.T) {
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	require.NoError(t, err)
	stream := `apiVersion: example.loom.dev/v1
kind: App
metadata: {name: web}
spec: {image: nginx}
---
apiVersion: example.loom.dev/v1
kind: App
metadata: {name: Web, namespace: team}
spec:
  image: 7
  replicas: three
  colour: red
  replicas: 2
`
	_, err = input.Instances("apps.yaml", []byte(stream), g)
	var invalid *input.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, []string{
		"document 2 (line 6): spec.replicas: duplicate field (line 13; first given on line 11)",
		"document 2 (line 6): spec.colour: Forbidden: unknown field: the kind's schema does not declare it",
		`document 2 (line 6): metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		`document 2 (line 6): spec.image: Invalid value: "integer": spec.image in body must be of type string: "integer"`,
	}, invalid.Problems)

	objs, err := input.Instances("apps.yaml", []byte(strings.SplitAfter(stream, "---\n")[0]), g)
	require.NoError(t, err)
	require.Len(t, objs, 1)
	assert.Equal(t, "default", objs[0]["metadata"].(map[string]any)["namespace"], "kubectl's namespace")
	assert.Equal(t, int64(1), objs[0]["spec"].(map[string]any)["replicas"], "the CRD's default")
}

// A stored instance is served as stored: its structure is checked, not what admission checks.
func TestStoredInstance(t *testing.T) {
	g, err := input.Graph("graph.yaml", "../../testdata/engine/graph.yaml", "../../testdata/engine/crd.yaml")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "app.yaml")
	require.NoError(t, os.WriteFile(path, []byte("apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {port: 80}\n"), 0o600))
	_, err = input.Instance(path, g)
	require.ErrorContains(t, err, "spec.image: Required value", "admission requires the image")
	obj, err := input.StoredInstance(path, g)
	require.NoError(t, err)
	assert.Equal(t, int64(1), obj["spec"].(map[string]any)["replicas"], "defaulted")

	require.NoError(t, os.WriteFile(path, []byte("apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {port: eighty}\n"), 0o600))
	_, err = input.StoredInstance(path, g)
	require.ErrorContains(t, err, ".spec.port: expected number, got string")
}

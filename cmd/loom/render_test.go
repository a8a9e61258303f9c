package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/applied"
)

// loomRender runs `loom render args...` with stdin, and returns its standard output, its
// standard error and its error.
func loomRender(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"render"}, args...))
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

// exitCode is the status the loom binary exits with for err (main).
func exitCode(err error) int {
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	}
	return 1
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

const weather = `apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: weather, namespace: tools}
spec: {image: ghcr.io/acme/weather:1.0}
`

// An instance the API server would refuse renders nothing: every violation is listed with
// its field path (the name, a type, an enum by a CEL rule, an unknown and a duplicate
// field), and loom exits 2.
func TestRenderRefusesAnInvalidInstance(t *testing.T) {
	path := writeFile(t, "bad.yaml", `apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: Weather
spec:
  image: ghcr.io/acme/weather:1.0
  replicas: 3
  auth: {mode: basic}
  colour: red
  image: ghcr.io/acme/weather:1.1
`)
	out, _, err := loomRender(t, "", "-f", path)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	assert.Empty(t, out, "nothing renders")
	for _, want := range []string{
		"bad.yaml: the API server would refuse it (5 problems)",
		"spec.image: duplicate field (line 10; first given on line 6)",
		"spec.colour: Forbidden: unknown field",
		`metadata.name: Invalid value: "Weather": a lowercase RFC 1123 subdomain`,
		"metadata.name must be a DNS-1035 label",
		`spec.auth.mode: Invalid value: "string": must be none, header, oauth or mtls`,
	} {
		assert.Contains(t, err.Error(), want)
	}

	_, _, err = loomRender(t, "", "-f", writeFile(t, "three.yaml", strings.Replace(weather, "{image:", "{replicas: three, image:", 1)))
	assert.Equal(t, 2, exitCode(err))
	assert.ErrorContains(t, err, `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer`)
}

// Every document of a stream renders, here from standard input; -o json prints one v1 List
// that parses, of the objects as the operator applies them.
func TestRenderStdinMultiDocumentJSON(t *testing.T) {
	stream := weather + "---\n" + strings.ReplaceAll(weather, "weather", "forecast")
	out, errOut, err := loomRender(t, stream, "-f", "-", "-o", "json")
	require.NoError(t, err)
	var list struct {
		APIVersion, Kind string
		Items            []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list), out)
	assert.Equal(t, "v1", list.APIVersion)
	assert.Equal(t, "List", list.Kind)
	owners := map[string]int{}
	for _, item := range list.Items {
		meta := item["metadata"].(map[string]any)
		labels := meta["labels"].(map[string]any)
		assert.Equal(t, "mcpserver", labels[applied.LabelGraph])
		assert.NotEmpty(t, meta["annotations"].(map[string]any)[applied.AnnotationIntent])
		ref := meta["ownerReferences"].([]any)[0].(map[string]any)
		assert.Equal(t, "MCPServer", ref["kind"])
		assert.Equal(t, "", ref["uid"], "an instance from a file has no uid")
		owners[ref["name"].(string)]++
	}
	assert.Equal(t, 4, owners["weather"], "ServiceAccount, Deployment, Service, Ingress")
	assert.Equal(t, 4, owners["forecast"])
	assert.Contains(t, errOut, "# instance MCPServer tools/forecast\n# pullSecret: Skipped", "node states go to standard error")
}

// --plain prints the templates' objects; --set reads a value as the operator does; a
// stored instance's uid is its objects' owner's.
func TestRenderPlainSetAndUID(t *testing.T) {
	stored := strings.Replace(weather, "namespace: tools}", "namespace: tools, uid: 6c1f0d5e-1b2a-4c3d-8e9f-0a1b2c3d4e5f}", 1)
	out, _, err := loomRender(t, stored, "-f", "-", "--set", "managedBy=acme")
	require.NoError(t, err)
	docs := yamlDocs(t, out)
	require.Len(t, docs, 4)
	dep := docs[1]
	assert.Equal(t, "Deployment", dep["kind"])
	meta := dep["metadata"].(map[string]any)
	assert.Equal(t, "acme", meta["labels"].(map[string]any)["app.kubernetes.io/managed-by"])
	assert.Equal(t, "weather", meta["labels"].(map[string]any)[applied.LabelInstance])
	ref := meta["ownerReferences"].([]any)[0].(map[string]any)
	assert.Equal(t, "6c1f0d5e-1b2a-4c3d-8e9f-0a1b2c3d4e5f", ref["uid"])
	assert.Equal(t, true, ref["controller"])

	out, _, err = loomRender(t, weather, "-f", "-", "--plain")
	require.NoError(t, err)
	meta = yamlDocs(t, out)[1]["metadata"].(map[string]any)
	assert.NotContains(t, meta, "ownerReferences")
	assert.NotContains(t, meta, "annotations")
	assert.NotContains(t, meta["labels"], applied.LabelGraph)

	_, _, err = loomRender(t, weather, "-f", "-", "--set", "noSuchKey=1")
	assert.ErrorContains(t, err, `--set noSuchKey=1: the graph declares no configuration key "noSuchKey"`)
	_, _, err = loomRender(t, weather, "-f", "-", "-o", "xml")
	assert.ErrorContains(t, err, "-o xml: expected yaml or json")
}

// A node in Error, a failed check, or a node waiting for data exits 1, after the objects
// that did render and the states of those that did not are printed.
func TestRenderIncompleteExitsOne(t *testing.T) {
	const crd = "../../testdata/engine/crd.yaml"
	graph := writeFile(t, "graph.yaml", `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: broken}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}"}
      data: {n: "${ string(int(schema.spec.image)) }"}
  - id: other
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-other"}
`)
	app := "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {image: nginx}\n"
	out, _, err := loomRender(t, app, "-g", graph, "--crd", crd, "-f", "-")
	require.ErrorIs(t, err, errRenderIncomplete)
	assert.Equal(t, 1, exitCode(err))
	assert.Contains(t, out, "# cm: Error (")
	assert.Contains(t, out, "name: web-other", "what rendered is printed")

	// The engine's sample graph: the Deployment waits for the ConfigMap to be observed.
	sample := "../../testdata/engine/graph.yaml"
	out, _, err = loomRender(t, app, "-g", sample, "--crd", crd, "-f", "-")
	require.ErrorIs(t, err, errRenderIncomplete)
	assert.Contains(t, out, "# deployment: Waiting (waiting for settings to be observed)")
	_, _, err = loomRender(t, app, "-g", sample, "--crd", crd, "-f", "-", "--observed", "../../testdata/engine/settings-observed/observed")
	require.NoError(t, err, "with the ConfigMap observed, every node renders")

	// A check of the default graph: more replicas than the operator allows.
	out, _, err = loomRender(t, strings.Replace(weather, "{image:", "{replicas: 3, image:", 1), "-f", "-", "--set", "maxReplicas=2")
	require.ErrorIs(t, err, errRenderIncomplete)
	assert.Contains(t, out, "# error: spec.replicas")
}

func yamlDocs(t *testing.T, stream string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(stream, "---\n") {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// loom's labels carry the graph's name: a name too long for a label value makes every object
// one the API server would refuse as loom applies it, which render reports (exit 1).
func TestRenderChecksObjectsAsApplied(t *testing.T) {
	long := strings.Repeat("g", 64)
	graph := writeFile(t, "graph.yaml", `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: `+long+`}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: cm
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}"}
`)
	app := "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {image: nginx}\n"
	out, _, err := loomRender(t, app, "-g", graph, "--crd", "../../testdata/engine/crd.yaml", "-f", "-")
	require.ErrorIs(t, err, errRenderIncomplete)
	assert.Contains(t, out, `# error: ConfigMap web, as loom applies it: v1 ConfigMap "web" would be refused by the API server (1):`)
	assert.Contains(t, out, `metadata.labels: Invalid value: "`+long+`": must be no more than 63 characters`)

	_, _, err = loomRender(t, app, "-g", graph, "--crd", "../../testdata/engine/crd.yaml", "-f", "-", "--plain")
	require.NoError(t, err, "the templates' own objects are fine")
}

// The loom binary's exit status: 2 for an instance the API server would refuse, 1 for a
// render that is not complete, 0 otherwise.
func TestRenderExitStatus(t *testing.T) {
	status := func(stdin string, args ...string) int {
		cmd := exec.Command(os.Args[0], append([]string{"render", "-f", "-"}, args...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		cmd.Stdin = strings.NewReader(stdin)
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		require.NoError(t, err)
		return 0
	}
	assert.Equal(t, 0, status(weather))
	assert.Equal(t, 2, status(strings.Replace(weather, "{image:", "{port: http, image:", 1)))
	assert.Equal(t, 1, status(strings.Replace(weather, "{image:", "{replicas: 3, image:", 1), "--set", "maxReplicas=2"))
}

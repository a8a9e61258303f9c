package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loomTest runs `loom test args...` and returns what it printed and its error.
func loomTest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"test"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

// readJUnit parses a --junit file.
func readJUnit(t *testing.T, path string) junitSuites {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc junitSuites
	require.NoError(t, xml.Unmarshal(data, &doc), string(data))
	return doc
}

// testdata/strict passes: a valid golden, and three cases that expect an error: an instance
// its CRD refuses, a rendered object that breaks a pattern and an enum, one that breaks a
// CEL rule.
func TestLoomTestStrictSuite(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.xml")
	out, err := loomTest(t, "../../testdata/strict", "--junit", report)
	require.NoError(t, err, out)
	assert.Contains(t, out, "4 passed, 0 failed")
	doc := readJUnit(t, report)
	assert.Equal(t, 4, doc.Tests)
	assert.Equal(t, 0, doc.Failures)
	require.Len(t, doc.Suites, 1)
	var names []string
	for _, c := range doc.Suites[0].Cases {
		names = append(names, c.Name)
		assert.Nil(t, c.Failure)
	}
	assert.Equal(t, []string{"refused-cel", "refused-instance", "refused-object", "valid"}, names)
}

// A golden document that holds an object the API server would refuse (written before the
// checks, or by hand) fails, naming the object and each violation: a pattern, an enum, a
// CEL rule. An expected error that does not come fails too. --junit reports each.
func TestLoomTestRejectsRefusedGoldens(t *testing.T) {
	strict, err := filepath.Abs("../../testdata/strict")
	require.NoError(t, err)
	dir := t.TempDir()
	golden := func(spec string) string {
		return "nodes: {gadget: Rendered}\nobjects:\n- apiVersion: test.loom.dev/v1\n  kind: Gadget\n  metadata: {name: web, namespace: shop}\n  spec: " + spec + "\nstatus: {phase: Pending}\n"
	}
	const app = "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: web, namespace: shop}\nspec: {image: %s, replicas: %s, env: {mode: %s}}\n"
	files := map[string]string{
		"suite.yaml":                  "graph: " + filepath.Join(strict, "graph.yaml") + "\ncrds: [" + filepath.Join(strict, "../engine/crd.yaml") + ", " + filepath.Join(strict, "gadget-crd.yaml") + "]\n",
		"pattern/instance.yaml":       sprintf(app, "Web", "1", "fast"),
		"pattern/expected.yaml":       golden("{image: Web, min: 1, max: 3, mode: fast}"),
		"enum/instance.yaml":          sprintf(app, "web", "1", "slow"),
		"enum/expected.yaml":          golden("{image: web, min: 1, max: 3, mode: slow}"),
		"cel/instance.yaml":           sprintf(app, "web", "5", "fast"),
		"cel/expected.yaml":           golden("{image: web, min: 5, max: 3, mode: fast}"),
		"no-error/instance.yaml":      sprintf(app, "web", "1", "fast"),
		"no-error/expected-error.txt": "min must not exceed max\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	report := filepath.Join(t.TempDir(), "report.xml")
	out, err := loomTest(t, dir, "--junit", report)
	require.ErrorIs(t, err, errCasesFailed)
	assert.Contains(t, out, "0 passed, 4 failed")
	const refused = `expected.yaml objects[0] (Gadget web): test.loom.dev/v1 Gadget "web" would be refused by the API server (`
	for _, want := range []string{
		"FAIL " + filepath.Join(dir, "pattern"),
		refused + "1):\n      spec.image: Invalid value: \"Web\": spec.image in body should match '^[a-z0-9./:-]+$'",
		"FAIL " + filepath.Join(dir, "enum"),
		refused + "2):\n      spec.mode: Unsupported value: \"slow\": supported values: \"fast\", \"safe\"",
		"FAIL " + filepath.Join(dir, "cel"),
		refused + "1):\n      spec.min: Invalid value: \"object\": min must not exceed max",
		// The diff names the node and the object the render no longer gives.
		"nodes:\n      @@ -1 +1,3 @@ nodes.gadget\n      -gadget: Rendered\n      +gadget: |-\n      +  Error: resource gadget: the rendered object",
		"Gadget web (objects[0] in expected.yaml): not rendered",
		"FAIL " + filepath.Join(dir, "no-error"),
		`expected-error.txt: the case rendered with no error; expected one containing ["min must not exceed max"]`,
	} {
		assert.Contains(t, out, want)
	}

	doc := readJUnit(t, report)
	assert.Equal(t, 4, doc.Tests)
	assert.Equal(t, 4, doc.Failures)
	require.Len(t, doc.Suites, 1)
	for _, c := range doc.Suites[0].Cases {
		require.NotNil(t, c.Failure, c.Name)
		assert.NotEmpty(t, c.Failure.Message, c.Name)
		if c.Name == "cel" {
			assert.Contains(t, c.Failure.Text, "min must not exceed max")
		}
	}
}

func sprintf(format string, args ...string) string {
	out := format
	for _, a := range args {
		out = strings.Replace(out, "%s", a, 1)
	}
	return out
}

package cases

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// write creates files (path relative to dir → content) under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
}

// appSuite makes a suite of the engine's own App graph, with the given case files.
func appSuite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"graph.yaml", "crd.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "engine", name))
		require.NoError(t, err)
		write(t, dir, map[string]string{name: string(data)})
	}
	write(t, dir, map[string]string{"suite.yaml": "graph: graph.yaml\ncrds: [crd.yaml]\nconfig: {domain: apps.test}\n"})
	write(t, dir, files)
	return dir
}

const instance = `apiVersion: example.loom.dev/v1
kind: App
metadata: {name: web}
spec: {image: web:1, replicas: 2}
`

// expected is what instance renders to with nothing observed.
const expected = `nodes:
  settings: Rendered
  deployment: 'Waiting: waiting for settings to be observed'
  service: Rendered
objects:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: web-settings, namespace: default, labels: {app: web}}, data: {}}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: default, labels: {app: web}}
  spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
status: {ready: false, phase: Pending}
`

func TestRunCase(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		err      string   // Result.Err contains it
		diff     []string // Result.Diff contains each
		failures []string // Result.Failures, printed
		refused  []string // Result.Refused, the path of expected.yaml cut
	}{
		{name: "passes", files: map[string]string{"expected.yaml": expected}},
		{name: "compared as values, not text",
			files: map[string]string{"expected.yaml": "# a comment\nstatus: {phase: Pending, ready: false}\n" +
				expected[:len(expected)-len("status: {ready: false, phase: Pending}\n")]}},
		{name: "fails with a diff",
			files: map[string]string{"expected.yaml": regexp.MustCompile(`phase: Pending`).ReplaceAllString(expected, "phase: Ready")},
			diff:  []string{"--- ", "expected.yaml\n+++ got\nstatus:\n  @@ -1,2 +1,2 @@ status.phase\n  -phase: Ready\n  +phase: Pending\n   ready: false\n"}},
		{name: "a diff names the object and the field of each hunk",
			files: map[string]string{"expected.yaml": strings.Replace(strings.Replace(expected, "port: 80,", "port: 81,", 1), "data: {}", "data: {a: b}", 1)},
			diff: []string{"+++ got\nConfigMap web-settings (objects[0]):\n  @@ -1,6 +1,5 @@ data\n   apiVersion: v1\n  -data:\n  -  a: b\n  +data: {}\n",
				"Service web (objects[1]):\n  @@ -8,7 +8,7 @@ spec.ports[0].port\n   spec:\n     ports:\n     - name: http\n  -    port: 81\n  +    port: 80\n"}},
		{name: "a diff names objects missing and new",
			files: map[string]string{"expected.yaml": strings.Replace(expected, "kind: Service\n  metadata: {name: web,", "kind: Service\n  metadata: {name: www,", 1)},
			diff:  []string{"Service web (objects[1]): rendered, not in expected.yaml\n", "Service www (objects[1] in expected.yaml): not rendered\n"}},
		{name: "a golden object the API server would refuse",
			files:   map[string]string{"expected.yaml": strings.Replace(strings.Replace(expected, "{name: web,", "{name: 1web,", 1), "port: 80,", "port: 80, protocol: 7,", 1)},
			diff:    []string{"Service web (objects[1]): rendered, not in expected.yaml\n", "Service 1web (objects[1] in expected.yaml): not rendered\n"},
			refused: []string{"expected.yaml objects[1] (Service 1web): v1 Service \"1web\" would be refused by the API server (1):\n  spec.ports[port=80,protocol=7].protocol: Invalid value: expected string, got number 7"}},
		{name: "a golden object the API server would refuse, by its name",
			files:   map[string]string{"expected.yaml": strings.Replace(expected, "{name: web,", "{name: 1web,", 1)},
			diff:    []string{"Service 1web (objects[1] in expected.yaml): not rendered\n"},
			refused: []string{"expected.yaml objects[1] (Service 1web): v1 Service \"1web\" would be refused by the API server (1):\n  metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"}},
		{name: "a golden status the API server would refuse",
			files:   map[string]string{"expected.yaml": strings.Replace(expected, "phase: Pending}", "phase: Pending, ready: maybe}", 1)},
			diff:    []string{"status:\n  @@ -1,2 +1,2 @@ status.ready\n   phase: Pending\n  -ready: maybe\n  +ready: false\n"},
			refused: []string{"expected.yaml status: example.loom.dev/v1 App \"web\" would be refused by the API server (1):\n  status.ready: Invalid value: \"string\": status.ready in body must be of type boolean: \"string\""}},
		{name: "an expected error that comes", files: map[string]string{"expected-error.txt": "config domain:\nexpected a string\n", "config.yaml": "domain: 7\n"}},
		{name: "an expected error from a node", files: map[string]string{"expected-error.txt": "deployment: Error: \nno such key: name\n", "observed/settings.yaml": "metadata: {namespace: default}\n"}},
		{name: "an expected error that does not come", files: map[string]string{"expected-error.txt": "boom\n"},
			err: "expected-error.txt: the case rendered with no error; expected one containing [\"boom\"]"},
		{name: "another error than expected", files: map[string]string{"expected-error.txt": "boom\n", "config.yaml": "domain: 7\n"},
			err: "expected-error.txt: the error does not contain [\"boom\"]; it is:\n"},
		{name: "an empty stored.txt", files: map[string]string{"stored.txt": "\n", "expected.yaml": expected},
			err: "stored.txt: empty; say why the instance is one the API server stored and would not admit now"},
		{name: "an expected error and an expected document", files: map[string]string{"expected-error.txt": "boom\n", "expected.yaml": expected},
			err: "expected-error.txt: a case expects a document (expected.yaml) or an error, not both"},
		{name: "no expected.yaml", err: "no expected.yaml: run with -update and review it"},
		{name: "assertions hold",
			files: map[string]string{"expected.yaml": expected,
				"assert.yaml": "(length(objects)): 2\n(cel;object.status.phase == 'Pending'): true\n"}},
		{name: "assertions fail",
			files: map[string]string{"expected.yaml": expected,
				"assert.yaml": "(length(objects)): 3\nstatus: {(cel;object.ready): true}\n"},
			failures: []string{"(length(objects)): Expected value: 3; got 2", "status.(cel;object.ready): Expected value: true; got false"}},
		{name: "bad assert.yaml", files: map[string]string{"expected.yaml": expected, "assert.yaml": "(cel;object.+): 1\n"},
			err: "assert.yaml: (cel;object.+): "},
		{name: "config merged over the suite's",
			files: map[string]string{"config.yaml": "domain: 7\n", "expected.yaml": expected},
			err:   "config domain: expected a string, got int64 7"},
		{name: "observed object of no node", files: map[string]string{"observed/db.yaml": "kind: Secret\n"},
			err: `observed/db.yaml: the graph has no node "db"; its nodes: deployment, service, settings`},
		{name: "observed object of another kind", files: map[string]string{"observed/settings.yaml": "apiVersion: v1\nkind: Secret\n"},
			err: "observed/settings.yaml: kind is Secret, but node settings is a v1 ConfigMap"},
		{name: "observed object that does not fit its schema",
			files: map[string]string{"observed/settings.yaml": "metadata: {name: web-settings}\ndata: {a: 1}\n"},
			err:   "observed/settings.yaml: v1 ConfigMap \"web-settings\" does not fit its schema"},
		{name: "errors.yaml is a list", files: map[string]string{"errors.yaml": "boom\n"},
			err: "errors.yaml: expected a list of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"c/instance.yaml": instance}
			for name, content := range tt.files {
				files["c/"+name] = content
			}
			s, err := Load(appSuite(t, files))
			require.NoError(t, err)
			r := s.Run(context.Background(), "c", false)
			if tt.err != "" {
				require.Error(t, r.Err)
				assert.Contains(t, r.Err.Error(), tt.err)
				assert.True(t, r.Failed())
				return
			}
			require.NoError(t, r.Err)
			for _, d := range tt.diff {
				assert.Contains(t, r.Diff, d)
			}
			if tt.diff == nil {
				assert.Empty(t, r.Diff)
			}
			var failures []string
			for _, f := range r.Failures {
				failures = append(failures, f.String())
			}
			assert.Equal(t, tt.failures, failures)
			var refused []string
			for _, f := range r.Refused {
				_, f, _ = strings.Cut(f, filepath.Join(r.Dir)+string(filepath.Separator))
				refused = append(refused, f)
			}
			assert.Equal(t, tt.refused, refused)
			assert.Equal(t, tt.diff != nil || tt.failures != nil || tt.refused != nil, r.Failed())
			assert.Empty(t, r.Updated)
		})
	}
}

func TestInstance(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		err      string
	}{
		{"another kind", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
			"instance.yaml: the API server would refuse it (1 problem); correct each field named:\n  apiVersion v1, kind ConfigMap: the graph expands example.loom.dev/v1 App"},
		{"not an object", "- a\n", "instance.yaml: the API server would refuse it (1 problem); correct each field named:\n  expected an object"},
		{"does not fit its schema", "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: x}\nspec: {image: 1, bogus: true}\n",
			"instance.yaml: the API server would refuse it (2 problems); correct each field named:\n" +
				"  spec.bogus: Forbidden: unknown field: the kind's schema does not declare it\n" +
				"  spec.image: Invalid value: \"integer\": spec.image in body must be of type string: \"integer\""},
		{"a field given twice", "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: x}\nspec:\n  image: a\n  image: b\n",
			"instance.yaml: the API server would refuse it (1 problem); correct each field named:\n  spec.image: duplicate field (line 6; first given on line 5)"},
		{"two documents", "apiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: x}\nspec: {image: a}\n---\napiVersion: example.loom.dev/v1\nkind: App\nmetadata: {name: z}\nspec: {image: a}\n",
			"instance.yaml: holds 2 documents; expected one instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(appSuite(t, map[string]string{"c/instance.yaml": tt.instance}))
			require.NoError(t, err)
			r := s.Run(context.Background(), "c", false)
			require.Error(t, r.Err)
			assert.Contains(t, r.Err.Error(), tt.err)
		})
	}
}

func TestUpdate(t *testing.T) {
	dir := appSuite(t, map[string]string{
		"missing/instance.yaml":  instance,
		"stale/instance.yaml":    instance,
		"stale/expected.yaml":    "nodes: {}\n",
		"current/instance.yaml":  instance,
		"current/expected.yaml":  "# reviewed\n" + expected,
		"_not-a-case/notes.yaml": "x: 1\n",
	})
	results, err := Run(context.Background(), dir, Options{Update: true})
	require.NoError(t, err)
	updated := map[string][]string{}
	for _, r := range results {
		require.NoError(t, r.Err, r.Name)
		assert.False(t, r.Failed(), r.Name)
		updated[r.Name] = r.Updated
	}
	assert.Equal(t, map[string][]string{
		"current": nil,
		"missing": {filepath.Join(dir, "missing", "expected.yaml")},
		"stale":   {filepath.Join(dir, "stale", "expected.yaml")},
	}, updated)

	// A file equal as a value keeps its text; the others hold the document, keys sorted.
	current, err := os.ReadFile(filepath.Join(dir, "current", "expected.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "# reviewed\n"+expected, string(current))
	written, err := os.ReadFile(filepath.Join(dir, "stale", "expected.yaml"))
	require.NoError(t, err)
	assert.Regexp(t, "(?s)^# .*\nnodes:\n  deployment: 'Waiting: waiting for settings to be observed'\n  service: Rendered\n  settings: Rendered\nobjects:\n- apiVersion: v1\n  data: {}\n  kind: ConfigMap\n", string(written))

	// Everything passes now, without -update.
	results, err = Run(context.Background(), dir, Options{})
	require.NoError(t, err)
	require.Len(t, results, 3)
	for _, r := range results {
		assert.False(t, r.Failed(), r.Name)
	}

	// --run selects cases by name.
	results, err = Run(context.Background(), dir, Options{Match: regexp.MustCompile("^s")})
	require.NoError(t, err)
	require.Len(t, results, 1)
	assert.Equal(t, "stale", results[0].Name)
}

// A graph whose status reads `errors` and stamps a condition: errors.yaml and the suite's
// clock reach the status.
func TestErrorsAndClock(t *testing.T) {
	crd, err := os.ReadFile(filepath.Join("..", "..", "testdata", "engine", "crd.yaml"))
	require.NoError(t, err)
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"crd.yaml":   string(crd),
		"suite.yaml": "graph: graph.yaml\ncrds: [crd.yaml]\nnow: 2030-05-06T07:08:09Z\n",
		"graph.yaml": `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: app}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: settings
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}"}
  status:
    phase: '${ size(errors) > 0 ? "Failed" : "Pending" }'
    conditions:
    - type: Applied
      status: '${ size(errors) > 0 ? "False" : "True" }'
      reason: '${ size(errors) > 0 ? "ApplyFailed" : "Applied" }'
      message: '${ errors.join("; ") }'
    url: '${ "http://web/" + string(1 / (size(errors) - 1)) }'
`,
		"c/instance.yaml": instance,
		"c/errors.yaml":   "- 'apply v1 ConfigMap default/web: forbidden'\n",
		"c/assert.yaml": `status:
  phase: Failed
  conditions:
  - type: Applied
    status: "False"
    reason: ApplyFailed
    message: 'apply v1 ConfigMap default/web: forbidden'
    lastTransitionTime: "2030-05-06T07:08:09Z"
`,
	})
	results, err := Run(context.Background(), dir, Options{Update: true})
	require.NoError(t, err)
	require.Len(t, results, 1)
	require.NoError(t, results[0].Err)
	assert.Empty(t, results[0].Failures)

	// The url failed (one error: division by zero): it is left out, and said in errors.
	s, err := Load(dir)
	require.NoError(t, err)
	doc, _, err := s.document(context.Background(), filepath.Join(dir, "c"), &Result{})
	require.NoError(t, err)
	m := doc.(map[string]any)
	assert.NotContains(t, m["status"], "url")
	require.Len(t, m["errors"], 1)
	assert.Contains(t, m["errors"].([]any)[0], "graph.yaml:19:13: status, field url: ")
	assert.Contains(t, m["errors"].([]any)[0], "division by zero")
}

// An error that a node's reason shows is not repeated in errors.
func TestErrorsNotRepeated(t *testing.T) {
	dir := appSuite(t, map[string]string{
		"c/instance.yaml":          instance,
		"c/observed/settings.yaml": "metadata: {namespace: default}\n",
	})
	s, err := Load(dir)
	require.NoError(t, err)
	doc, _, err := s.document(context.Background(), filepath.Join(dir, "c"), &Result{})
	require.NoError(t, err)
	m := doc.(map[string]any)
	assert.Equal(t, "Error: graph.yaml:35:50: resource deployment, field spec.template.spec.containers[0].envFrom[0].configMapRef.name: ${settings.metadata.name}: no such key: name",
		m["nodes"].(map[string]any)["deployment"])
	assert.NotContains(t, m, "errors")
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		err   string
	}{
		{"no suite.yaml", map[string]string{}, "suite.yaml: no such file"},
		{"no graph", map[string]string{"suite.yaml": "crds: []\n"}, "suite.yaml: graph: the path of the graph"},
		{"unknown key", map[string]string{"suite.yaml": "graph: g.yaml\ngrpah: x\n"}, `suite.yaml: error unmarshaling JSON: while decoding JSON: json: unknown field "grpah"`},
		{"bad clock", map[string]string{"suite.yaml": "graph: g.yaml\nnow: yesterday\n"}, "suite.yaml: now: "},
		{"config not a map", map[string]string{"suite.yaml": "graph: g.yaml\nconfig: [a]\n"}, "suite.yaml: config: expected a map"},
		{"missing graph file", map[string]string{"suite.yaml": "graph: g.yaml\n"}, "suite.yaml: graph: open "},
		{"missing CRD", map[string]string{"suite.yaml": "graph: g.yaml\ncrds: [c.yaml]\n"}, "suite.yaml: crds: open "},
		{"graph that does not load", map[string]string{"suite.yaml": "graph: g.yaml\n", "g.yaml": "kind: Nope\n"},
			"suite.yaml: loading "},
		{"no cases", map[string]string{"suite.yaml": "graph: g.yaml\n", "g.yaml": `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: cm}
spec:
  instance: {apiVersion: v1, kind: ConfigMap}
  resources: []
`}, "no cases: each case is a subdirectory holding instance.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.files)
			_, err := Run(context.Background(), dir, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"added at the end", "a\n", "a\nb\n", "--- x\n+++ y\n@@ -1 +1,2 @@\n a\n+b\n"},
		{"removed at the start", "a\nb\n", "b\n", "--- x\n+++ y\n@@ -1,2 +1 @@\n-a\n b\n"},
		{"from nothing", "", "a\n", "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n"},
		{"far apart: two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "0\n2\n3\n4\n5\n6\n7\n8\n9\n11\n",
			"--- x\n+++ y\n@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+11\n"},
		{"close: one hunk", "1\n2\n3\n4\n5\n6\n7\n8\n", "0\n2\n3\n4\n5\n6\n7\n9\n",
			"--- x\n+++ y\n@@ -1,8 +1,8 @@\n-1\n+0\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+9\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, unifiedDiff("x", "y", tt.a, tt.b))
		})
	}
}

func TestLinePaths(t *testing.T) {
	doc := map[string]any{
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"a.b/c": "x"}},
		"spec": map[string]any{
			"containers": []any{
				map[string]any{"name": "app", "args": []any{"-v", "-x"}, "env": []any{map[string]any{"name": "A", "value": "1"}}},
				map[string]any{"name": "side"},
			},
			"script": "line one\nline two\n",
			"empty":  []any{},
		},
	}
	text, err := marshal(doc)
	require.NoError(t, err)
	got := map[string]string{}
	for i, l := range lines(string(text)) {
		got[l] = linePaths(string(text))[i]
	}
	assert.Equal(t, map[string]string{
		"metadata:":          "metadata",
		"  labels:":          "metadata.labels",
		"    a.b/c: x":       "metadata.labels.a.b/c",
		"  name: web":        "metadata.name",
		"spec:":              "spec",
		"  containers:":      "spec.containers",
		"  - args:":          "spec.containers[0].args",
		"    - -v":           "spec.containers[0].args[0]",
		"    - -x":           "spec.containers[0].args[1]",
		"    env:":           "spec.containers[0].env",
		"    - name: A":      "spec.containers[0].env[0].name",
		"      value: \"1\"": "spec.containers[0].env[0].value",
		"    name: app":      "spec.containers[0].name",
		"  - name: side":     "spec.containers[1].name",
		"  empty: []":        "spec.empty",
		"  script: |":        "spec.script",
		"    line one":       "spec.script",
		"    line two":       "spec.script",
	}, got, "%s", text)
}

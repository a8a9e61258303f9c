package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"
)

// config/schema holds what `loom schema` prints.
func TestSchemaFiles(t *testing.T) {
	t.Run("graph", func(t *testing.T) { assertGenerated(t, "../../config/schema/resourcegraph.json", "schema") })
	t.Run("suite", func(t *testing.T) { assertGenerated(t, "../../config/schema/suite.json", "schema", "suite") })
}

// The schemas accept every graph and suite of the repository (the loader accepts them),
// and refuse the structural mistakes of testdata/invalid.
func TestSchemaValidates(t *testing.T) {
	graphs := append(globAll(t, "../../templates/*.yaml", "../../testdata/*/graph.yaml", "../../testdata/hostile/cel-*.yaml"),
		"../../testdata/hostile/plain.yaml")
	require.Greater(t, len(graphs), 10)
	suites := globAll(t, "../../testdata/*/suite.yaml")
	require.NotEmpty(t, suites)
	for _, tt := range []struct {
		schema string
		files  []string
	}{{"../../config/schema/resourcegraph.json", graphs}, {"../../config/schema/suite.json", suites}} {
		v := schemaValidator(t, tt.schema)
		for _, f := range tt.files {
			res := v.Validate(yamlFile(t, f))
			assert.True(t, res.IsValid(), "%s: %v", f, res.Errors)
		}
	}

	// Mistakes in templates and expressions are the loader's to find, not the schema's.
	v := schemaValidator(t, "../../config/schema/resourcegraph.json")
	for _, file := range []string{"../../testdata/invalid/unknown-field.yaml", "../../testdata/invalid/cel-syntax.yaml"} {
		res := v.Validate(yamlFile(t, file))
		assert.True(t, res.IsValid(), "%s: %v", file, res.Errors)
	}
	for doc, want := range map[string]string{
		"apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nspec: {instance: {apiVersion: v1, kind: X}, resources: [{id: a, tempalte: {}}]}":        "tempalte",
		"apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nspec: {instance: {apiVersion: v1, kind: X}, resources: [{id: My-id}]}":                  "id",
		"apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nspec: {instance: {apiVersion: v1, kind: X}, resources: [], vars: {Bad: 1}}":             "Bad",
		"apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nspec: {instance: {apiVersion: v1, kind: X}, resources: [{id: a, includeWhen: [true]}]}": "includeWhen",
		"apiVersion: loom.dev/v1\nkind: ResourceGraph\nspec: {instance: {apiVersion: v1, kind: X}, resources: []}":                                   "apiVersion",
	} {
		var obj any
		require.NoError(t, yaml.Unmarshal([]byte(doc), &obj))
		res := v.Validate(obj)
		require.False(t, res.IsValid(), doc)
		var msgs []string
		for _, e := range res.Errors {
			msgs = append(msgs, e.Error())
		}
		assert.Contains(t, strings.Join(msgs, "\n"), want, doc)
	}
}

func globAll(t *testing.T, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		require.NoError(t, err)
		out = append(out, m...)
	}
	return out
}

func yamlFile(t *testing.T, path string) any {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var obj any
	require.NoError(t, yaml.Unmarshal(data, &obj), path)
	return obj
}

// schemaValidator loads a JSON Schema with its definitions inlined: kube-openapi's
// validator, the one at hand, takes no $ref.
func schemaValidator(t *testing.T, path string) *validate.SchemaValidator {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	defs, _ := raw["definitions"].(map[string]any)
	delete(raw, "definitions")
	inlined, err := json.Marshal(inlineRefs(raw, defs))
	require.NoError(t, err)
	var s spec.Schema
	require.NoError(t, json.Unmarshal(inlined, &s))
	return validate.NewSchemaValidator(&s, nil, "", strfmt.Default)
}

func inlineRefs(v any, defs map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			return inlineRefs(defs[strings.TrimPrefix(r, "#/definitions/")], defs)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = inlineRefs(e, defs)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = inlineRefs(e, defs)
		}
		return out
	}
	return v
}

package assert

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doc is what `loom test` asserts against: integers are int64, as the decoder makes them.
var doc = map[string]any{
	"nodes": map[string]any{"settings": "Rendered", "deployment": "Waiting: waiting for settings to be observed"},
	"objects": []any{
		map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": "web-settings"}},
		map[string]any{"kind": "Deployment", "spec": map[string]any{"replicas": int64(3)}},
	},
	"status": map[string]any{"phase": "Pending", "ready": false},
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		tree string
		want []Failure
	}{
		{"partial object", "status: {phase: Pending}", nil},
		{"literal mismatch", "status: {phase: Ready}",
			[]Failure{{Path: "status.phase", Message: `Expected value: "Ready"; got "Pending"`}}},
		{"missing field", "status: {url: http://web}",
			[]Failure{{Path: "status.url", Message: "field not found in the input object"}}},
		{"jmespath length", "(length(objects)): 2", nil},
		{"jmespath length fails", "(length(objects)): 3",
			[]Failure{{Path: "(length(objects))", Message: "Expected value: 3; got 2"}}},
		{"jmespath filter", "(objects[?kind == 'Deployment'].spec.replicas): [3]", nil},
		{"jmespath explicit", "(jp;nodes.settings): Rendered", nil},
		{"cel", "objects:\n- {}\n- (cel;object.spec.replicas > 1): true", nil},
		{"cel fails", "objects:\n- {}\n- (cel;object.spec.replicas > 5): true",
			[]Failure{{Path: "objects[1].(cel;object.spec.replicas > 5)", Message: "Expected value: true; got false"}}},
		{"cel on the root", "(cel;object.objects.all(o, has(o.kind))): true", nil},
		{"list length", "objects: [{}]",
			[]Failure{{Path: "objects", Message: `lengths of slices don't match; got [{"kind":"ConfigMap","metadata":{"name":"web-settings"}},{"kind":"Deployment","spec":{"replicas":3}}]`}}},
		{"failures sorted by path", "status: {phase: Ready, ready: true}",
			[]Failure{
				{Path: "status.phase", Message: `Expected value: "Ready"; got "Pending"`},
				{Path: "status.ready", Message: "Expected value: true; got false"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Compile("assert.yaml", []byte(tt.tree))
			require.NoError(t, err)
			got, err := tree.Check(doc)
			require.NoError(t, err)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		tree string
		want string
	}{
		{"bad yaml", "status: [", "assert.yaml: "},
		{"empty", "", "assert.yaml: the assertion tree is empty"},
		{"bad cel", "(cel;object.+): true", "assert.yaml: (cel;object.+): "},
		{"bad jmespath", "status: {(length(@): 1}", "assert.yaml: status.(length(@): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("assert.yaml", []byte(tt.tree))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestCheckError(t *testing.T) {
	tree, err := Compile("assert.yaml", []byte("(cel;object.nope.deeper): 1"))
	require.NoError(t, err)
	_, err = tree.Check(doc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "assert.yaml: (cel;object.nope.deeper): ")
}

func TestFailureString(t *testing.T) {
	assert.Equal(t, "(root): x", Failure{Message: "x"}.String())
	assert.Equal(t, "a.b: x", Failure{Path: "a.b", Message: "x"}.String())
}

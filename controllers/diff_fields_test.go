package controllers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/schema"
)

func deployment(mutate func(spec, container map[string]any, meta map[string]any)) *unstructured.Unstructured {
	container := map[string]any{"name": "server", "image": "tool:1", "env": []any{map[string]any{"name": "MODE", "value": "fast"}}}
	spec := map[string]any{"replicas": int64(1), "template": map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "sidecar", "image": "proxy:1"}, container,
	}}}}
	meta := map[string]any{"name": "web", "namespace": "team", "labels": map[string]any{"app": "web"},
		"resourceVersion": "7", "generation": int64(3), "annotations": map[string]any{applied.AnnotationIntent: "aaa"},
		"managedFields": []any{map[string]any{"manager": "loom", "operation": "Apply"}}}
	if mutate != nil {
		mutate(spec, container, meta)
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}}
}

// TestFieldChanges: fields are compared by their type: list items by key, whatever their
// position; a field added or removed with what is under it is one change; what every
// write changes (resourceVersion, generation, managedFields) and loom's intent are left out.
func TestFieldChanges(t *testing.T) {
	s, err := schema.Builtin()
	require.NoError(t, err)
	tc, err := s.TypeConverter()
	require.NoError(t, err)
	x := &differ{r: &reconciler{applier: &applier{types: tc}}}
	live := deployment(nil)
	for _, c := range []struct {
		name   string
		mutate func(spec, container, meta map[string]any)
		want   []FieldChange
	}{
		{name: "bookkeeping only", mutate: func(_, _, meta map[string]any) {
			meta["resourceVersion"], meta["generation"] = "8", int64(4)
			meta["annotations"] = map[string]any{applied.AnnotationIntent: "bbb"}
			meta["managedFields"] = nil
		}},
		{name: "a keyed list item's field", mutate: func(_, c, _ map[string]any) { c["image"] = "tool:2" },
			want: []FieldChange{{Path: `.spec.template.spec.containers[name="server"].image`, Old: "tool:1", New: "tool:2", HasOld: true, HasNew: true}}},
		{name: "items reordered", mutate: func(spec, _, _ map[string]any) {
			cs := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
			cs[0], cs[1] = cs[1], cs[0]
		}},
		{name: "a subtree added and one removed", mutate: func(spec, c, meta map[string]any) {
			c["ports"] = []any{map[string]any{"containerPort": int64(80), "protocol": "TCP"}}
			delete(meta, "labels")
			spec["replicas"] = int64(2)
		}, want: []FieldChange{
			{Path: ".metadata.labels", Old: map[string]any{"app": "web"}, HasOld: true},
			{Path: ".spec.replicas", Old: int64(1), New: int64(2), HasOld: true, HasNew: true},
			{Path: `.spec.template.spec.containers[name="server"].ports`, New: []any{map[string]any{"containerPort": int64(80), "protocol": "TCP"}}, HasNew: true},
		}},
		{name: "an env item replaced", mutate: func(_, c, _ map[string]any) {
			c["env"] = []any{map[string]any{"name": "LEVEL", "value": "debug"}}
		}, want: []FieldChange{
			{Path: `.spec.template.spec.containers[name="server"].env[name="LEVEL"]`, New: map[string]any{"name": "LEVEL", "value": "debug"}, HasNew: true},
			{Path: `.spec.template.spec.containers[name="server"].env[name="MODE"]`, Old: map[string]any{"name": "MODE", "value": "fast"}, HasOld: true},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := x.fieldChanges(live, deployment(c.mutate))
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}

	// A kind the schemas do not know is compared as deduced types.
	a := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": int64(1), "tags": []any{"a"}}}}
	b := a.DeepCopy()
	b.Object["spec"] = map[string]any{"size": int64(2), "tags": []any{"a", "b"}}
	got, err := x.fieldChanges(a, b)
	require.NoError(t, err)
	assert.Equal(t, []FieldChange{
		{Path: ".spec.size", Old: int64(1), New: int64(2), HasOld: true, HasNew: true},
		{Path: ".spec.tags", Old: []any{"a"}, New: []any{"a", "b"}, HasOld: true, HasNew: true},
	}, got)
}

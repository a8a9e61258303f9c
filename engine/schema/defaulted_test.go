package schema

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestDefaulted: defaults apply under absent parents too (spec is made, with its
// defaults), set values stay, objects with no default below stay absent, the object given
// is not changed, and built-in kinds are left alone.
func TestDefaulted(t *testing.T) {
	s := withWidget(t)
	tests := []struct {
		name string
		spec map[string]any // nil: no spec
		want map[string]any
	}{
		{"no spec", nil, map[string]any{"replicas": int64(1), "mode": "safe", "port": "http", "resources": map[string]any{"cpu": "100m"}}},
		{"set values stay", map[string]any{"image": "x", "mode": "fast", "resources": map[string]any{"memory": "1Gi"}},
			map[string]any{"image": "x", "replicas": int64(1), "mode": "fast", "port": "http", "resources": map[string]any{"cpu": "100m", "memory": "1Gi"}}},
		{"a null that is not nullable is defaulted", map[string]any{"replicas": nil, "resources": nil},
			map[string]any{"replicas": int64(1), "mode": "safe", "port": "http", "resources": map[string]any{"cpu": "100m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := map[string]any{"apiVersion": "test.loom.dev/v1alpha1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}
			if tt.spec != nil {
				obj["spec"] = tt.spec
			}
			before := fmt.Sprint(obj)
			got, err := s.Defaulted(widget, obj)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got["spec"])
			assert.NotContains(t, got, "status", "no default below status: not made")
			assert.Equal(t, before, fmt.Sprint(obj), "the object given is not changed")
		})
	}

	dep := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}
	got, err := s.Defaulted(deployment, dep)
	require.NoError(t, err)
	assert.Equal(t, dep, got)
}

// TestDefaultedItemsAndDepth: list items get their defaults, each changed item copied;
// parents are made at every depth.
func TestDefaultedItemsAndDepth(t *testing.T) {
	s := builtin(t)
	data, err := os.ReadFile("testdata/gear-crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(data, "testdata/gear-crd.yaml")
	require.NoError(t, err)
	gear := schema.GroupVersionKind{Group: "test.loom.dev", Version: "v1", Kind: "Gear"}
	parts := []any{map[string]any{"name": "a"}, map[string]any{"name": "b", "size": int64(3)}}
	obj := map[string]any{"apiVersion": "test.loom.dev/v1", "kind": "Gear", "spec": map[string]any{"parts": parts}}
	got, err := s.Defaulted(gear, obj)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"parts": []any{map[string]any{"name": "a", "size": int64(1)}, map[string]any{"name": "b", "size": int64(3)}},
		"outer": map[string]any{"inner": map[string]any{"level": "low"}},
	}, got["spec"])
	assert.Equal(t, map[string]any{"name": "a"}, parts[0], "the object given is not changed")
}

package schema

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultEverywhere: defaults apply under absent parents too (spec is made, with its
// defaults), set values stay, objects with no default below stay absent, and built-in
// kinds are left alone.
func TestDefaultEverywhere(t *testing.T) {
	s := withWidget(t)
	tests := []struct {
		name string
		spec map[string]any // nil: no spec
		want map[string]any
	}{
		{"no spec", nil, map[string]any{"replicas": int64(1), "mode": "safe", "port": "http", "resources": map[string]any{"cpu": "100m"}}},
		{"set values stay", map[string]any{"image": "x", "mode": "fast", "resources": map[string]any{"memory": "1Gi"}},
			map[string]any{"image": "x", "replicas": int64(1), "mode": "fast", "port": "http", "resources": map[string]any{"cpu": "100m", "memory": "1Gi"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := map[string]any{"apiVersion": "test.loom.dev/v1alpha1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}
			if tt.spec != nil {
				obj["spec"] = tt.spec
			}
			require.NoError(t, s.DefaultEverywhere(widget, obj))
			assert.Equal(t, tt.want, obj["spec"])
			assert.NotContains(t, obj, "status", "no default below status: not made")
		})
	}

	dep := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}
	require.NoError(t, s.DefaultEverywhere(deployment, dep))
	assert.Equal(t, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}, dep)
}

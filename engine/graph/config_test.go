package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

const configGraph = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: t}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  config:
    mode: {default: strict, env: APP_MODE, enum: [strict, permissive]}
    tls: {type: boolean, env: APP_TLS}
    replicas: {type: integer, default: 1, env: APP_REPLICAS}
  resources: []
`

// TestConfigFromEnv: a value the graph does not allow stops the operator at start, naming
// the variable and the values it takes; a valid one is typed.
func TestConfigFromEnv(t *testing.T) {
	g, err := graph.Load("g.yaml", []byte(configGraph), graph.WithSchemas(enginetest.Schemas(t)))
	require.NoError(t, err)
	tests := []struct {
		name string
		env  map[string]string
		want map[string]any
		err  string
	}{
		{name: "unset: defaults", env: nil, want: map[string]any{"mode": "strict", "tls": false, "replicas": int64(1)}},
		{name: "valid values", env: map[string]string{"APP_MODE": "permissive", "APP_TLS": "true", "APP_REPLICAS": "3"}, want: map[string]any{"mode": "permissive", "tls": true, "replicas": int64(3)}},
		{name: "unknown enum value", env: map[string]string{"APP_MODE": "strcit"}, err: `APP_MODE="strcit": expected one of strict, permissive`},
		{name: "non-boolean boolean", env: map[string]string{"APP_TLS": "yes please"}, err: `APP_TLS="yes please": expected true or false`},
		{name: "non-integer integer", env: map[string]string{"APP_REPLICAS": "two"}, err: `APP_REPLICAS="two": expected an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := g.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			got, err := g.ConfigValues(cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err = g.ConfigValues(map[string]any{"mode": "loose"})
	require.EqualError(t, err, "config mode: expected one of strict, permissive")
	_, err = g.ConfigValues(map[string]any{"mode": "strict", "domian": "example.com"})
	require.EqualError(t, err, "config domian: the graph declares no such key")
	_, err = g.ParseConfig("mode", "loose")
	require.EqualError(t, err, "expected one of strict, permissive")
}

func TestConfigEnumLoadErrors(t *testing.T) {
	tests := []struct{ name, key, want string }{
		{name: "default outside the enum", key: `{default: lax, enum: [strict]}`, want: `the default "lax" is not one of the enum's values`},
		{name: "enum on a boolean", key: `{type: boolean, enum: [strict]}`, want: "enum: expected a non-empty list of strings, on a string key"},
		{name: "empty enum", key: `{enum: []}`, want: "enum: expected a non-empty list of strings, on a string key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nmetadata: {name: t}\nspec:\n  instance: {apiVersion: example.loom.dev/v1, kind: App}\n  config:\n    mode: " + tt.key + "\n  resources: []\n"
			_, err := graph.Load("g.yaml", []byte(src), graph.WithSchemas(enginetest.Schemas(t)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "g.yaml:7:")
			assert.Contains(t, err.Error(), "spec.config.mode.enum")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

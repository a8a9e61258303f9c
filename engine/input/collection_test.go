package input_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/input"
	"github.com/loom-mcp/loom/engine/internal/enginetest"
)

// TestObservedCollection: a resource with forEach is observed as a List of its objects,
// each given the node's apiVersion and kind; anything else is refused, naming the resource.
func TestObservedCollection(t *testing.T) {
	g := enginetest.CollectionsGraph(t)
	tests := []struct {
		name, data, want string
	}{
		{name: "a List", data: "kind: List\nitems:\n- metadata: {name: site-a}\n- metadata: {name: site-b}\n"},
		{name: "one object", data: "metadata: {name: site-a}\n", want: "files.yaml: resource files is a collection: expected a List (kind: List, items: [...])"},
		{name: "an item of another kind", data: "kind: List\nitems:\n- {kind: Secret, metadata: {name: site-a}}\n",
			want: "files.yaml: object 0: kind is Secret, but resource files is of v1 ConfigMap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "files.yaml"), []byte(tt.data), 0o600))
			objs, err := input.Observed(dir, g)
			if tt.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			require.NoError(t, err)
			items := objs["files"]["items"].([]any)
			require.Len(t, items, 2)
			assert.Equal(t, "ConfigMap", items[1].(map[string]any)["kind"])
		})
	}
}

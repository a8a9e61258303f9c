package parse_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loom-mcp/loom/engine/parse"
)

// TestBuiltinsReserved: no resource id and no var may take a built-in name.
func TestBuiltinsReserved(t *testing.T) {
	for _, name := range parse.Builtins {
		for what, spec := range map[string]string{
			"resource": "  resources:\n  - id: %s\n    template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n",
			"var":      "  vars:\n    %s: ${ 1 }\n",
		} {
			t.Run(what+"-"+name, func(t *testing.T) {
				doc := "apiVersion: loom.dev/v1alpha1\nkind: ResourceGraph\nmetadata: {name: t}\nspec:\n" +
					"  instance: {apiVersion: example.loom.dev/v1, kind: App}\n" + fmt.Sprintf(spec, name)
				_, err := parse.Parse("g.yaml", []byte(doc))
				require.Error(t, err)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q: the name is reserved", name))
			})
		}
	}
}

func TestIsBuiltin(t *testing.T) {
	for name, want := range map[string]bool{
		"schema": true, "config": true, "errors": true, "vars.image": true, "ready.deployment": true,
		"deployment": false, "schemas": false, "variables.x": false, "": false,
	} {
		assert.Equal(t, want, parse.IsBuiltin(name), name)
	}
}

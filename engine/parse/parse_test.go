package parse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func graphWithVars(vars string) []byte {
	return []byte(`apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: g}
spec:
  instance: {apiVersion: v1, kind: ConfigMap}
  vars:
` + vars + `
  resources: []
`)
}

// bomb is nine anchors of nine aliases each: 500 bytes that stand for 387 million values.
func bomb() string {
	var b strings.Builder
	b.WriteString(`    a0: &a0 ["x","x","x","x","x","x","x","x","x"]` + "\n")
	for i := 1; i < 9; i++ {
		ref := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "    a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(ref+",", 9), ","))
	}
	return b.String()
}

func TestAliases(t *testing.T) {
	tests := []struct {
		name, vars, err string
	}{
		{"an alias repeats a value", "    a: &l {k: v}\n    b: *l", ""},
		{"a bomb stops at the expansion limit", bomb(), "g.yaml:11:14: spec.vars.a4[0][2][0][5][3]: aliases expand the graph past 10000 values"},
		{"an alias inside its own anchor", "    a: &a [x, *a]", "g.yaml:7:15: spec.vars.a[1]: alias *a stands inside the node its anchor &a marks"},
		{"mutual aliases", "    a: &a [x, {k: &b [y, *a]}]", "alias *a stands inside the node its anchor &a marks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Parse("g.yaml", graphWithVars(tt.vars))
			if tt.err == "" {
				require.NoError(t, err)
				assert.Equal(t, g.Vars[0].Value.Fields[0].Value.Scalar, g.Vars[1].Value.Fields[0].Value.Scalar)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
	assert.Less(t, len(bomb()), 500)
}

// A ${} error is placed on its column when the scalar stands on one line, and on the
// scalar itself when YAML folded it from several lines (its value no longer says where
// each byte stood).
func TestExpressionErrorPositions(t *testing.T) {
	tests := []struct{ name, vars, pos string }{
		{"plain, one line", "    a: one ${ b", "g.yaml:7:12:"},
		{"quoted, one line", `    a: "one ${ b"`, "g.yaml:7:13:"},
		{"plain, folded", "    a: one two\n      three ${ b", "g.yaml:7:8:"},
		{"quoted, folded", "    a: 'one two\n      three ${ b'", "g.yaml:7:8:"},
		{"block", "    a: >-\n      one ${ b", "g.yaml:7:8:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("g.yaml", graphWithVars(tt.vars))
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.pos), "%v", err)
		})
	}
}

package engine_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEngineStandsAlone: no package under engine/ depends on the controller, the local
// control plane, or the operator's command, directly or not. (That nothing here needs a
// cluster is what the engine's tests show: they run with none.)
func TestEngineStandsAlone(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./...").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/loom-mcp/loom/controllers", "github.com/loom-mcp/loom/hack/", "github.com/loom-mcp/loom/internal/controlplane", "github.com/loom-mcp/loom/cmd/", "sigs.k8s.io/controller-runtime"} {
			require.False(t, strings.HasPrefix(pkg, banned), "engine depends on %s", pkg)
		}
	}
}

// TestEngineImports: each engine package imports exactly the loom packages its doc.go says
// it may. A new import is a change to this table and to that doc.
func TestEngineImports(t *testing.T) {
	allowed := map[string][]string{
		"engine":                     nil,
		"engine/parse":               nil,
		"engine/schema":              nil,
		"engine/cel":                 nil,
		"engine/assert":              nil,
		"engine/graph":               {"engine/cel", "engine/parse", "engine/schema"},
		"engine/render":              {"engine/cel", "engine/graph", "engine/parse"},
		"engine/input":               {"engine/graph", "engine/schema"},
		"engine/applied":             {"engine/graph", "engine/render"},
		"engine/cases":               {"engine/assert", "engine/graph", "engine/input", "engine/render"},
		"engine/internal/enginetest": {"engine/graph", "engine/schema"},
	}
	const module = "github.com/loom-mcp/loom/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	require.NoError(t, err, string(out))
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		pkg = strings.TrimPrefix(pkg, module)
		want, ok := allowed[pkg]
		if !assert.True(t, ok, "package %s is not in the table: add it, with what its doc.go says it may import", pkg) {
			continue
		}
		seen++
		var got []string
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, module) {
				got = append(got, strings.TrimPrefix(imp, module))
			}
		}
		sort.Strings(got)
		assert.Equal(t, want, got, "loom packages %s imports", pkg)
	}
	assert.Equal(t, len(allowed), seen, "every package of the table exists")
}

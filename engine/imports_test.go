package engine_test

import (
	"os/exec"
	"strings"
	"testing"

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

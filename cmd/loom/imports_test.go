package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBinaryLinksNothingFromHack: hack/ holds generators, tool pins and benchmark drivers;
// nothing the loom binary links may live there.
func TestBinaryLinksNothingFromHack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, pkg := range strings.Fields(string(out)) {
		require.False(t, strings.HasPrefix(pkg, "github.com/loom-mcp/loom/hack/"), "the loom binary links %s", pkg)
	}
}

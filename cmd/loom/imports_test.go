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

// TestPackageImports: the import rules each package's doc states, for the loom packages it
// may reach (directly or not).
func TestPackageImports(t *testing.T) {
	const loom = "github.com/loom-mcp/loom/"
	for _, c := range []struct {
		pkg     string
		allowed []string // loom packages, by prefix
	}{
		{"api/v1alpha1", nil},
		{"config/crd", nil},
		{"internal/controlplane", nil},
		{"internal/version", nil},
		{"hack/image", nil},
		{"hack/openapi", nil},
		{"templates", []string{"config/crd", "engine/"}},
		{"controllers", []string{"engine/"}},
	} {
		t.Run(c.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+c.pkg).CombinedOutput()
			require.NoError(t, err, string(out))
			for _, dep := range strings.Fields(string(out)) {
				rel, ok := strings.CutPrefix(dep, loom)
				if !ok || rel == c.pkg {
					continue
				}
				allowed := false
				for _, a := range c.allowed {
					allowed = allowed || strings.HasPrefix(rel, a)
				}
				require.True(t, allowed, "%s imports %s", c.pkg, rel)
			}
		})
	}
}

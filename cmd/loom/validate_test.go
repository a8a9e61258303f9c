package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateRejects runs `loom validate` on one graph per class of mistake in
// testdata/invalid; each file's `# want:` lines are what the message must say: where
// (file:line:col), which resource and field, the expression, and what was expected.
func TestValidateRejects(t *testing.T) {
	files, err := filepath.Glob("../../testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wants := wantLines(t, file)
			require.NotEmpty(t, wants, "%s has no # want: lines", file)
			cmd := newValidateCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs([]string{file, "--crd", "../../testdata/engine/crd.yaml"})
			err := cmd.Execute()
			require.Error(t, err, "the graph was accepted")
			for _, w := range wants {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	cmd := newValidateCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	args := []string{"../../templates/mcpserver.yaml", "--crd", "../../config/crd/mcpruntime.org_mcpservers.yaml",
		"--crd", "../../config/crd/mcpruntime.org_mcpaccessgrants.yaml", "--crd", "../../config/crd/mcpruntime.org_mcpagentsessions.yaml"}
	thirdParty, err := filepath.Glob("../../templates/crds/*.yaml") // cert-manager and Traefik, for auth.mode mtls
	require.NoError(t, err)
	require.NotEmpty(t, thirdParty)
	for _, f := range thirdParty {
		args = append(args, "--crd", f)
	}
	cmd.SetArgs(args)
	require.NoError(t, cmd.Execute())
	assert.Contains(t, out.String(), "ok: 15 resources")
}

func wantLines(t *testing.T, file string) []string {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var wants []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			wants = append(wants, w)
		}
	}
	return wants
}

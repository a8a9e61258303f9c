package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runLoom(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	return out.String(), err
}

// TestLocalUpStatusDown drives `loom local` the way a user does and checks that down leaves no
// process and no directory behind.
func TestLocalUpStatusDown(t *testing.T) {
	state := t.TempDir()
	dir := filepath.Join(state, "controlplane")

	out, err := runLoom(t, "local", "up", "--state-dir", state)
	require.NoError(t, err, out)
	assert.Contains(t, out, "control plane ready in")
	assert.Contains(t, out, "kubeconfig: "+filepath.Join(dir, "kubeconfig"))
	assert.Contains(t, out, "loom local down --state-dir "+state)
	t.Cleanup(func() { _, _ = runLoom(t, "local", "down", "--state-dir", state) }) // if we fail below

	out, err = runLoom(t, "local", "up", "--state-dir", state)
	require.NoError(t, err, out)
	assert.Contains(t, out, "already up")

	out, err = runLoom(t, "local", "status", "--state-dir", state)
	require.NoError(t, err, out)
	assert.Contains(t, out, "kube-apiserver: ready")
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		assert.Regexp(t, name+`\s+\d+\s+running`, out)
	}

	out, err = runLoom(t, "local", "down", "--state-dir", state)
	require.NoError(t, err, out)
	assert.Contains(t, out, "removed")
	assert.NoDirExists(t, dir)
	assert.Empty(t, processesMentioning(dir))

	_, err = runLoom(t, "local", "status", "--state-dir", state)
	require.ErrorContains(t, err, "no control plane")
	out, err = runLoom(t, "local", "down", "--state-dir", state)
	require.NoError(t, err)
	assert.Contains(t, out, "no control plane")
}

// processesMentioning lists live processes with dir on their command line, as every
// component of a control plane has its own directory.
func processesMentioning(dir string) []string {
	var found []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			found = append(found, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

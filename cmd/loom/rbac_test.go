package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRBACUpToDate: config/rbac/role.yaml is what `loom rbac` prints for the default graph,
// so the operator's privileges follow the graph's kinds.
func TestRBACUpToDate(t *testing.T) {
	var out bytes.Buffer
	cmd := newRBACCmd()
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	require.NoError(t, cmd.Execute())
	committed, err := os.ReadFile("../../config/rbac/role.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(committed), out.String(), "config/rbac/role.yaml is stale: run make generate")
}

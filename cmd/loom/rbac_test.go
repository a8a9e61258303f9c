package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
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

// TestRBACNamespacesRejects: --namespaces and the RoleBinding's subject are checked before
// anything is printed, and the error names the flag and the value.
func TestRBACNamespacesRejects(t *testing.T) {
	many := make([]string, maxNamespaces+1)
	for i := range many {
		many[i] = fmt.Sprintf("ns-%d", i)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"not-a-name", []string{"--namespaces", "team-a,Team_B"}, `--namespaces: "Team_B" is not a namespace name`},
		{"empty-item", []string{"--namespaces", "team-a,,team-b"}, `--namespaces: "" is not a namespace name`},
		{"too-many", []string{"--namespaces", strings.Join(many, ",")}, "--namespaces: 101 namespaces, at most 100"},
		{"service-account", []string{"--namespaces", "team-a", "--service-account", "loom"}, `--service-account "loom": expected NAMESPACE/NAME`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runLoom(t, append([]string{"rbac"}, c.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, out, "kind: Role")
		})
	}
}

// TestRBACNamespaces: one Role and one RoleBinding per namespace, named once each even when
// listed twice, the Role holding the ClusterRole's rules but the Lease.
func TestRBACNamespaces(t *testing.T) {
	out, err := runLoom(t, "rbac", "--namespaces", "team-a,team-b,team-a")
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "\nkind: Role\n"))
	assert.Equal(t, 2, strings.Count(out, "\nkind: RoleBinding\n"))
	assert.NotContains(t, out, "ClusterRole")
	assert.NotContains(t, out, "leases")
	assert.Contains(t, out, "subjects:\n- kind: ServiceAccount\n  name: loom\n  namespace: loom-system\n")
}

// TestRBACOptionalKinds: a kind whose CRD may be absent is granted like any other, and
// nothing more is: the operator learns that a kind appeared from discovery, which every
// authenticated user may read, not from CustomResourceDefinitions.
func TestRBACOptionalKinds(t *testing.T) {
	out, err := runLoom(t, "rbac", "--graph", "../../controllers/testdata/optional-kinds.yaml",
		"--crd", "../../testdata/engine/crd.yaml", "--crd", "../../controllers/testdata/gizmo-crd.yaml")
	require.NoError(t, err)
	assert.Contains(t, out, "- apiGroups:\n  - optional.loom.dev\n  resources:\n  - gizmos\n  verbs:\n  - get\n  - list\n  - watch\n  - create\n  - patch\n  - delete\n")
	assert.NotContains(t, out, "apiextensions.k8s.io")
	assert.NotContains(t, out, "customresourcedefinitions")
}

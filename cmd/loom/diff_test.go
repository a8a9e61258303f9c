package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/internal/controlplane"
	"github.com/loom-mcp/loom/templates"
)

// diffFleet is how many servers TestDiff runs.
const diffFleet = 50

// TestDiff: 50 MCPServers live and Ready under the operator (ten with the gateway and a
// grant in their policy), then loom diff as a user that
// holds only `loom rbac --diff`'s ClusterRole. With the graph they run, it reports no
// change, exits 0 and sends no patch at all. With a graph that changes one field of the
// Deployment, it reports each server's Deployment changed in that field and nothing else,
// exits 1, and the audit log shows no write but dry runs. One server by name reports that
// server alone.
func TestDiff(t *testing.T) {
	ctx := context.Background()
	cp, err := controlplane.Start(ctx, controlplane.WithAuditLog())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, cp.Stop()) })
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	admin := fastAdmin(t, cp)
	// Not the cert-manager and Traefik CRDs of the mTLS objects: a cluster without them is the
	// common case, and the diff lists none of their kinds.
	for _, f := range crd.All() {
		require.NoError(t, cp.InstallCRD(ctx, f.Data))
	}
	const ns = "fleet"
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)

	// 1. The fleet, Ready under the operator, which then stops.
	const gateway = "gatewayProxyImage=ghcr.io/loom-mcp/mcp-gateway:1.0.0"
	stop := runOperatorCmd(t, "--kubeconfig", cp.OperatorKubeconfig, "--set", gateway,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	var names []string
	for i := range diffFleet {
		names = append(names, createDiffServer(t, admin, ns, i))
	}
	for _, name := range names {
		waitReady(t, admin, ns, name)
	}
	require.NoError(t, stop())
	deployments := resourceVersions(t, admin, ns)
	policy, err := admin.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns).Get(ctx, "mcp-04-gateway-policy", metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, policy.Object["data"].(map[string]any)["policy.json"], `"alice"`, "the grant is in the policy the diff must render alike")

	// 2. The operator's user keeps only what loom rbac --diff prints.
	out, err := runLoom(t, "rbac", "--diff")
	require.NoError(t, err, out)
	role := &rbacv1.ClusterRole{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(out[strings.Index(out, "---\n")+4:]), role))
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: controlplane.OperatorUser}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, cs.RbacV1().ClusterRoleBindings().Delete(ctx, controlplane.OperatorBinding, metav1.DeleteOptions{}))

	// 3. The graph the fleet runs: no change, exit 0, no patch (every apply is a no-op).
	base := []string{"diff", "--kubeconfig", cp.OperatorKubeconfig, "--set", gateway}
	begin := time.Now()
	out, err = runLoom(t, base...)
	require.NoError(t, err, out)
	assert.Equal(t, fmt.Sprintf("loom diff: %d MCPServers: 0 would change, %d unchanged; objects: 0 to create, 0 to change, 0 to prune; 0 status changes", diffFleet, diffFleet),
		summaryOf(out), out)
	assert.Empty(t, results(out), "an unchanged graph reports nothing but the summary")
	requests := auditSince(t, cp, begin)
	for key, n := range requests {
		verb, _, _ := strings.Cut(key, " ")
		assert.Contains(t, []string{"get", "list"}, verb, "an unchanged diff sent %s ×%d", key, n)
	}
	t.Logf("unchanged graph: the diff's requests %v", requests)

	// 4. One field of the Deployment changed: 50 Deployments with that field, nothing else.
	changed := writeGraph(t, strings.Replace(string(templates.MCPServer),
		"livenessProbe: {tcpSocket: {port: '${ vars.port }'}, initialDelaySeconds: 5, periodSeconds: 10}",
		"livenessProbe: {tcpSocket: {port: '${ vars.port }'}, initialDelaySeconds: 5, periodSeconds: 15}", 1))
	withGraph := append(append([]string{}, base...), "--graph", changed)
	third, err := templates.ThirdPartyCRDs() // they type the graph's mTLS objects
	require.NoError(t, err)
	for _, f := range append(crd.All(), third...) {
		withGraph = append(withGraph, "--crd", filepath.Join("../..", f.Name))
	}
	begin = time.Now()
	out, err = runLoom(t, withGraph...)
	requireExit(t, err, 1, out)
	var want []string
	for _, name := range names {
		want = append(want, "MCPServer "+ns+"/"+name,
			"  ~ Deployment "+name+" (deployment): configured",
			fmt.Sprintf(`      .spec.template.spec.containers[name=%q].livenessProbe.periodSeconds: 10 → 15`, name))
	}
	assert.Equal(t, want, results(out))
	assert.Equal(t, fmt.Sprintf("loom diff: %d MCPServers: %d would change, 0 unchanged; objects: 0 to create, %d to change, 0 to prune; 0 status changes", diffFleet, diffFleet, diffFleet),
		summaryOf(out))
	requests = auditSince(t, cp, begin)
	assert.Equal(t, diffFleet, requests["dry-run patch deployments"], "one dry-run apply a Deployment: %v", requests)
	for key, n := range requests {
		verb, _, _ := strings.Cut(key, " ")
		assert.Contains(t, []string{"get", "list", "dry-run"}, verb, "the diff sent %s ×%d", key, n)
	}
	assert.Equal(t, deployments, resourceVersions(t, admin, ns), "a Deployment changed")
	t.Logf("one field changed: the diff's requests %v", requests)

	// The same as JSON.
	out, err = runLoom(t, append(withGraph, "-o", "json")...)
	requireExit(t, err, 1, out)
	var doc struct {
		Kind      string
		Instances []controllers.InstanceDiff
		Counts    map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc), out)
	assert.Equal(t, map[string]int{"instances": diffFleet, "changed": diffFleet, "unchanged": 0, "failed": 0, "status": 0, "configured": diffFleet}, doc.Counts)
	require.Len(t, doc.Instances, diffFleet)
	assert.Equal(t, []controllers.ObjectDiff{{Node: "deployment", Action: controllers.Configured, Kind: "Deployment", Namespace: ns, Name: names[0],
		Fields: []controllers.FieldChange{{Path: `.spec.template.spec.containers[name="mcp-00"].livenessProbe.periodSeconds`, Old: float64(10), New: float64(15), HasOld: true, HasNew: true}}}},
		doc.Instances[0].Objects)

	// 5. One server by name.
	out, err = runLoom(t, append([]string{withGraph[0], names[7], "-n", ns}, withGraph[1:]...)...)
	requireExit(t, err, 1, out)
	assert.Equal(t, want[21:24], results(out))
	assert.Contains(t, summaryOf(out), "loom diff: 1 MCPServers: 1 would change")
}

var grantGVR = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpaccessgrants"}

// createDiffServer creates the i-th server of TestDiff's fleet: routed by host, hostless,
// or with env vars, in turn; every fifth with the gateway on and an MCPAccessGrant, which
// the graph reads into its policy ConfigMap.
func createDiffServer(t *testing.T, d dynamic.Interface, ns string, i int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("mcp-%02d", i)
	spec := map[string]any{"image": fmt.Sprintf("ghcr.io/example/tool:1.0.%d", i)}
	switch i % 3 {
	case 0:
		spec["ingressHost"] = "mcp.example.com"
	case 2:
		spec["envVars"] = []any{map[string]any{"name": "MODE", "value": "fast"}}
	}
	if i%5 == 4 {
		spec["gateway"] = map[string]any{"enabled": true}
		grant := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPAccessGrant",
			"metadata": map[string]any{"name": name + "-alice", "namespace": ns},
			"spec":     map[string]any{"serverRef": map[string]any{"name": name}, "subject": map[string]any{"humanID": "alice"}},
		}}
		_, err := d.Resource(grantGVR).Namespace(ns).Create(ctx, grant, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}}
	_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
	require.NoError(t, err)
	return name
}

func fastAdmin(t *testing.T, cp *controlplane.ControlPlane) dynamic.Interface {
	t.Helper()
	cfg := cp.AdminConfig()
	cfg.QPS, cfg.Burst = 500, 1000
	d, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return d
}

// resourceVersions are the resourceVersions of the Deployments of ns, by name.
func resourceVersions(t *testing.T, d dynamic.Interface, ns string) map[string]string {
	t.Helper()
	list, err := d.Resource(deploymentsGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	out := map[string]string{}
	for _, o := range list.Items {
		out[o.GetName()] = o.GetResourceVersion()
	}
	return out
}

func writeGraph(t *testing.T, src string) string {
	t.Helper()
	require.NotEqual(t, string(templates.MCPServer), src, "the edit did not apply")
	path := filepath.Join(t.TempDir(), "graph.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	return path
}

var progressLine = regexp.MustCompile(`^loom diff: \d+/\d+ `)

// results are the lines of loom diff's report: neither the progress lines nor the summary.
func results(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" && !progressLine.MatchString(l) && !strings.HasPrefix(l, "loom diff: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// summaryOf is the summary line, without its time.
func summaryOf(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "loom diff: ") && !progressLine.MatchString(l) {
			return regexp.MustCompile(` \([0-9.]+s\)$`).ReplaceAllString(l, "")
		}
	}
	return ""
}

func requireExit(t *testing.T, err error, code int, out string) {
	t.Helper()
	var exit *exitError
	require.True(t, errors.As(err, &exit), "want exit status %d, got %v\n%s", code, err, out)
	require.Equal(t, code, exit.Code, "%v\n%s", exit.Err, out)
}

// auditSince counts the requests of the operator's user since begin, by "verb resource",
// a dry run as "dry-run verb resource"; discovery is left out.
func auditSince(t *testing.T, cp *controlplane.ControlPlane, begin time.Time) map[string]int {
	t.Helper()
	reqs, err := cp.Audit.Requests(begin)
	require.NoError(t, err)
	out := map[string]int{}
	for _, r := range reqs {
		switch {
		case strings.HasPrefix(r.Resource, "/"):
		case r.DryRun:
			out["dry-run "+r.Key()]++
		default:
			out[r.Key()]++
		}
	}
	return out
}

// TestDiffOutput: every action's line, field values as JSON, a multi-line string as a line
// diff, notes, and nothing for an instance that would not change.
func TestDiffOutput(t *testing.T) {
	var b strings.Builder
	printInstance(&b, "MCPServer", &controllers.InstanceDiff{Namespace: "team", Name: "quiet", Notes: []string{"canary: Skipped"}})
	printInstance(&b, "MCPServer", &controllers.InstanceDiff{Namespace: "team", Name: "web",
		Objects: []controllers.ObjectDiff{
			{Node: "deployment", Action: controllers.Configured, Kind: "Deployment", Name: "web", Fields: []controllers.FieldChange{
				{Path: ".metadata.labels", Old: map[string]any{"a": "b"}, HasOld: true},
				{Path: ".spec.replicas", Old: int64(1), New: int64(2), HasOld: true, HasNew: true},
			}},
			{Node: "policy", Action: controllers.Configured, Kind: "ConfigMap", Name: "web-policy", Fields: []controllers.FieldChange{
				{Path: `.data.policy\.json`, HasOld: true, HasNew: true,
					Old: "{\n  \"grants\": [\n    \"a\",\n    \"b\"\n  ],\n  \"mode\": \"allow\"\n}\n",
					New: "{\n  \"grants\": [\n    \"a\",\n    \"c\"\n  ],\n  \"mode\": \"allow\"\n}\n"},
			}},
			{Node: "ingress", Action: controllers.Created, Kind: "Ingress", Name: "web"},
			{Node: "notes", Action: controllers.Pruned, Kind: "ConfigMap", Name: "web-notes"},
			{Node: "service", Action: controllers.Refused, Kind: "Service", Name: "web", Error: "resource service: Service web exists and is not loom's"},
		},
		Status: []controllers.FieldChange{{Path: ".status.phase", Old: "Ready", New: "Error", HasOld: true, HasNew: true}},
		Notes:  []string{"gateway: Waiting (waiting for ca)"},
	})
	out := b.String()
	for _, want := range []string{
		"MCPServer team/web\n",
		"  ~ Deployment web (deployment): configured\n      .metadata.labels: {\"a\":\"b\"} → (none)\n      .spec.replicas: 1 → 2\n",
		"  + Ingress web (ingress): created\n",
		"  - ConfigMap web-notes (notes): pruned\n",
		"  ! Service web (service): refused: resource service: Service web exists and is not loom's\n",
		"  ~ status\n      .status.phase: \"Ready\" → \"Error\"\n",
		"  # gateway: Waiting (waiting for ca)\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "quiet", "an instance with nothing to change prints nothing")
	// go-cmp mixes non-breaking spaces into its output on purpose, so that nobody parses it.
	assert.Regexp(t, `\.data\.policy\\\.json:\n(?:[ \x{a0}].*\n)*[ \x{a0}]*-[\s\x{a0}]+"b"\n[ \x{a0}]*\+[\s\x{a0}]+"c"\n`, out, "a multi-line string as a line diff")
	t.Log("\n" + out)

	c := controllers.DiffCounts{Instances: 3, Changed: 1, Unchanged: 1, Failed: 1, Status: 1,
		Objects: map[controllers.Action]int{controllers.Configured: 2, controllers.Created: 1, controllers.Pruned: 1, controllers.Refused: 1}}
	assert.Equal(t, "loom diff: 3 MCPServers: 1 would change, 1 unchanged, 1 could not be diffed; objects: 1 to create, 2 to change, 1 to prune, 1 refused; 1 status changes (2.0s)",
		summary("MCPServer", c, 2*time.Second))
}

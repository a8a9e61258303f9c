package controllers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	schema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/templates"
)

var (
	mcpGVR = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpservers"}
	saGVR  = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
)

// mcpConfig is the operator configuration of these tests: hosts from examples/ resolve,
// and the gateway image comes from the operator when a server names none.
var mcpConfig = map[string]any{"gatewayProxyImage": "ghcr.io/loom-mcp/mcp-gateway:1.0.0"}

func mcpGraph(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := templates.LoadMCPServer()
	require.NoError(t, err)
	return g
}

func readExample(t *testing.T, file, ns string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", file))
	require.NoError(t, err)
	obj := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &obj.Object))
	obj.SetNamespace(ns)
	return obj
}

func waitMCP(t *testing.T, d dynamic.Interface, ns, name string, ok func(*unstructured.Unstructured) bool, what string) *unstructured.Unstructured {
	t.Helper()
	return waitFor(t, d, mcpGVR, ns, name, 90*time.Second, ok, what)
}

// readyAt is true once the server is Ready for its current generation.
func readyAt(obj *unstructured.Unstructured) bool {
	phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	gen, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	return phase == "Ready" && gen == obj.GetGeneration()
}

func TestMCPServerExamples(t *testing.T) {
	installMCPCRDs(t)
	startOperator(t, mcpGraph(t), mcpConfig)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "examples"
	createNamespace(t, ns)

	// Every example reaches Ready, with its url, for its generation.
	names := map[string]string{}
	for _, f := range []string{"plain.yaml", "gateway.yaml", "hostless.yaml"} {
		obj := readExample(t, f, ns)
		_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
		require.NoError(t, err, f)
		names[f] = obj.GetName()
	}
	for f, name := range names {
		obj := waitMCP(t, d, ns, name, readyAt, "never Ready")
		url, _, _ := unstructured.NestedString(obj.Object, "status", "url")
		assert.NotEmpty(t, url, "%s has no url once Ready", f)
	}

	// A new image: the Deployment follows; observedGeneration tracks the new generation.
	plain := names["plain.yaml"]
	_, err := d.Resource(mcpGVR).Namespace(ns).Patch(ctx, plain, types.MergePatchType, []byte(`{"spec":{"image":"ghcr.io/example/weather-mcp:9.9.9"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return deploymentImage(t, d, ns, plain) == "ghcr.io/example/weather-mcp:9.9.9" }, 30*time.Second, 100*time.Millisecond)
	waitMCP(t, d, ns, plain, readyAt, "not Ready again after the image change")

	// A new ingress host: the Ingress rule follows, and so does the url.
	_, err = d.Resource(mcpGVR).Namespace(ns).Patch(ctx, plain, types.MergePatchType, []byte(`{"spec":{"ingressHost":"weather.example.org"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	obj := waitMCP(t, d, ns, plain, func(o *unstructured.Unstructured) bool {
		url, _, _ := unstructured.NestedString(o.Object, "status", "url")
		return readyAt(o) && strings.Contains(url, "weather.example.org")
	}, "url never moved to the new host")
	ing, err := d.Resource(ingressGVR).Namespace(ns).Get(ctx, plain, metav1.GetOptions{})
	require.NoError(t, err)
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	require.Len(t, rules, 1)
	assert.Equal(t, "weather.example.org", rules[0].(map[string]any)["host"])
	_ = obj

	// kubectl edit of the image (an update by another manager) is reverted; a label the
	// same edit adds stays.
	editImageAndLabel(t, d, ns, plain, "ghcr.io/example/weather-mcp:9.9.9")

	// The gateway switched off: its policy ConfigMap is pruned, the sidecar is gone, and
	// the Service targets the server's own port again.
	gw := names["gateway.yaml"]
	_, err = d.Resource(mcpGVR).Namespace(ns).Patch(ctx, gw, types.MergePatchType, []byte(`{"spec":{"gateway":{"enabled":false},"analytics":null}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := d.Resource(cmGVR).Namespace(ns).Get(ctx, gw+"-gateway-policy", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 100*time.Millisecond, "the policy ConfigMap was not pruned")
	require.Eventually(t, func() bool {
		dep, err := d.Resource(deployGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
		if err != nil {
			return false
		}
		containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
		return len(containers) == 1
	}, 30*time.Second, 100*time.Millisecond, "the gateway sidecar is still there")
	svc, err := d.Resource(svcGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
	require.NoError(t, err)
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	require.Len(t, ports, 1, "the metrics port goes with the gateway")
	server, _ := d.Resource(mcpGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
	port, _, _ := unstructured.NestedInt64(server.Object, "spec", "port")
	assert.Equal(t, port, ports[0].(map[string]any)["targetPort"])
	waitMCP(t, d, ns, gw, readyAt, "not Ready without its gateway")

	// Deleted: the garbage collector removes everything it owned.
	require.NoError(t, d.Resource(mcpGVR).Namespace(ns).Delete(ctx, gw, metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		_, err1 := d.Resource(deployGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
		_, err2 := d.Resource(svcGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
		_, err3 := d.Resource(ingressGVR).Namespace(ns).Get(ctx, gw, metav1.GetOptions{})
		return apierrors.IsNotFound(err1) && apierrors.IsNotFound(err2) && apierrors.IsNotFound(err3)
	}, 60*time.Second, 200*time.Millisecond, "objects of a deleted server were not garbage-collected")

	// The namespace's shared ServiceAccount outlives any one server: delete the server that
	// owns it, the garbage collector takes it, and the server left renders it again.
	var owner string
	require.Eventually(t, func() bool {
		sa, err := d.Resource(saGVR).Namespace(ns).Get(ctx, "mcp-workload", metav1.GetOptions{})
		if err != nil || len(sa.GetOwnerReferences()) != 1 {
			return false
		}
		owner = sa.GetOwnerReferences()[0].Name
		return owner == names["plain.yaml"] || owner == names["hostless.yaml"]
	}, 60*time.Second, 200*time.Millisecond, "the shared ServiceAccount is gone or owned by a deleted server")
	survivor := names["plain.yaml"]
	if owner == survivor {
		survivor = names["hostless.yaml"]
	}
	require.NoError(t, d.Resource(mcpGVR).Namespace(ns).Delete(ctx, owner, metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		sa, err := d.Resource(saGVR).Namespace(ns).Get(ctx, "mcp-workload", metav1.GetOptions{})
		return err == nil && sa.GetDeletionTimestamp() == nil && len(sa.GetOwnerReferences()) == 1 && sa.GetOwnerReferences()[0].Name == survivor
	}, 60*time.Second, 200*time.Millisecond, "the ServiceAccount was not rendered again for %s", survivor)
	waitMCP(t, d, ns, survivor, readyAt, "not Ready after its ServiceAccount was taken over")
}

// fleet creates n MCPServers of mixed shapes in ns.
func fleet(t *testing.T, d dynamic.Interface, ns string, n int) []string {
	t.Helper()
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("mcp-%02d", i)
		spec := map[string]any{"image": fmt.Sprintf("ghcr.io/example/tool-%d:1.0.%d", i%3, i)}
		switch i % 4 {
		case 0:
			spec["ingressHost"] = "mcp.example.com"
		case 1:
			spec["publicPathPrefix"] = name
		case 2:
			spec["replicas"] = int64(2)
			spec["envVars"] = []any{map[string]any{"name": "MODE", "value": "fast"}}
		case 3:
			spec["gateway"] = map[string]any{"enabled": true}
			spec["tools"] = []any{map[string]any{"name": "search", "sideEffect": "read"}}
		}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     spec,
		}}
		_, err := d.Resource(mcpGVR).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
		require.NoError(t, err)
		names = append(names, name)
	}
	return names
}

// TestIdleCostsNothing: with 20 Ready MCPServers and nothing changing, the operator makes
// no write and no GET of an object for 30 s, counted from the API server's audit log of its
// user. Its only requests are discovery's, once a period for each group version of a kind
// the cluster does not serve (cert-manager's and Traefik's, unless a test installed them).
func TestIdleCostsNothing(t *testing.T) {
	installMCPCRDs(t)
	startOperator(t, mcpGraph(t), mcpConfig)
	d := adminDynamic(t)
	ns := "idle"
	createNamespace(t, ns)
	begin := time.Now()
	for _, name := range fleet(t, d, ns, 20) {
		waitMCP(t, d, ns, name, readyAt, "never Ready")
	}
	converging, err := cp.Audit.Count(begin)
	require.NoError(t, err)
	require.NotZero(t, converging["patch deployments"], "the audit log shows no apply by the operator: %v", converging)
	t.Logf("converging 20 MCPServers, requests by verb and resource: %v", converging)
	assert.Zero(t, converging["create events"], "servers that converged without an error recorded Events")

	time.Sleep(2 * time.Second) // the last status writes and their events settle
	start := time.Now()
	time.Sleep(30 * time.Second)
	counts, err := cp.Audit.Count(start)
	require.NoError(t, err)
	writes, gets := writesAndGets(counts)
	assert.Empty(t, writes, "writes in the idle window")
	assert.Empty(t, gets, "GETs of objects in the idle window")
	assertDiscoveryBounded(t, counts, time.Since(start))
	t.Logf("idle window, requests by verb and resource: %v", counts)
}

// loomBinary is bin/loom, which `make test` builds first, or a fresh build of it.
func loomBinary(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs("../bin/loom"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	out := filepath.Join(t.TempDir(), "loom")
	cmd := exec.Command("go", "build", "-o", out, "../cmd/loom")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	return out
}

// startOperatorProcess runs `loom operator` as a child process, with more flags, and returns it.
func startOperatorProcess(t *testing.T, bin string, flags ...string) *exec.Cmd {
	t.Helper()
	leastPrivilege(t)
	cmd := exec.Command(bin, append([]string{"operator", "--kubeconfig", cp.OperatorKubeconfig,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--set", "gatewayProxyImage=ghcr.io/loom-mcp/mcp-gateway:1.0.0"}, flags...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logs, err := os.Create(logPath)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			if len(data) > 1500 {
				data = data[len(data)-1500:]
			}
			t.Logf("the operator's log (pid %d) ends:\n%s", cmd.Process.Pid, data)
		}
	})
	return cmd
}

// TestKilledMidConvergence: SIGKILL the operator while a fleet converges, start it again,
// and every server converges with exactly one object per rendered node and no orphans.
func TestKilledMidConvergence(t *testing.T) {
	installMCPCRDs(t)
	bin := loomBinary(t)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "killed"
	createNamespace(t, ns)

	first := startOperatorProcess(t, bin)
	names := fleet(t, d, ns, 12)
	// Kill it once it has applied something, before everything is Ready.
	require.Eventually(t, func() bool {
		list, err := d.Resource(deployGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) > 0
	}, 30*time.Second, 20*time.Millisecond, "the operator applied nothing")
	require.NoError(t, syscall.Kill(-first.Process.Pid, syscall.SIGKILL))
	_ = first.Wait()
	ready := 0
	for _, name := range names {
		if obj, err := d.Resource(mcpGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{}); err == nil && readyAt(obj) {
			ready++
		}
	}
	t.Logf("killed with %d of %d servers Ready", ready, len(names))
	assert.Less(t, ready, len(names), "the kill came too late to be mid-convergence")

	startOperatorProcess(t, bin)
	for _, name := range names {
		waitMCP(t, d, ns, name, readyAt, "never Ready after the restart")
	}

	// The shared ServiceAccount is one object, owned by one of the servers.
	sa, err := d.Resource(saGVR).Namespace(ns).Get(ctx, "mcp-workload", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, sa.GetOwnerReferences(), 1)
	assert.Contains(t, names, sa.GetOwnerReferences()[0].Name)

	// One object per (server, node), each controlled by its server.
	servers := map[string]types.UID{}
	for _, name := range names {
		obj, err := d.Resource(mcpGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		servers[name] = obj.GetUID()
	}
	for _, gvr := range []schema.GroupVersionResource{deployGVR, svcGVR, ingressGVR, cmGVR, saGVR, {Version: "v1", Resource: "secrets"}} {
		list, err := d.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: applied.LabelInstance})
		require.NoError(t, err)
		seen := map[string]string{}
		for _, o := range list.Items {
			key := o.GetLabels()[applied.LabelInstance] + "/" + o.GetLabels()[applied.LabelNode]
			require.NotContains(t, seen, key, "two %s for %s: %s and %s", gvr.Resource, key, seen[key], o.GetName())
			seen[key] = o.GetName()
			uid, ok := servers[o.GetLabels()[applied.LabelInstance]]
			require.True(t, ok, "%s %s belongs to no server", gvr.Resource, o.GetName())
			refs := o.GetOwnerReferences()
			require.Len(t, refs, 1, "%s %s", gvr.Resource, o.GetName())
			assert.Equal(t, uid, refs[0].UID, "%s %s", gvr.Resource, o.GetName())
		}
	}
}

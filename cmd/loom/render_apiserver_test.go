package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/internal/controlplane"
)

// TestRenderIsWhatTheOperatorApplies: the operator applies two servers on a real control
// plane; `loom render` of each server, as the cluster stores it (`kubectl get -o yaml |
// loom render -f -`), gives objects that a server-side dry-run apply with loom's field
// manager finds already there: the dry run changes nothing (what `kubectl diff --server-side
// --field-manager=loom` does, and then kubectl diff itself, when bin/ has kubectl).
func TestRenderIsWhatTheOperatorApplies(t *testing.T) {
	cp, err := controlplane.Start(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, cp.Stop()) })
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	admin, err := dynamic.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	for _, f := range crd.All() {
		require.NoError(t, cp.InstallCRD(ctx, f.Data))
	}
	// One server a namespace: a shared object (the ServiceAccount) carries the reference
	// of the last server that applied it, which another server's render would not show.
	servers := map[string]string{"plain": "../../examples/plain.yaml", "gateway": "../../examples/gateway.yaml"}
	for ns, file := range servers {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		obj := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(data, &obj.Object))
		obj.SetNamespace(ns)
		_, err = admin.Resource(mcpGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	// In a process of its own: controller-runtime allows one controller of a name a process,
	// and other tests of this package run operators in theirs.
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	op := exec.Command(os.Args[0], "operator", "--kubeconfig", cp.OperatorKubeconfig, "--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	op.Env = append(os.Environ(), runMainEnv+"=1")
	op.Stdout, op.Stderr = logFile, logFile
	require.NoError(t, op.Start())
	stop := func() {
		_ = op.Process.Signal(syscall.SIGTERM)
		_ = op.Wait()
		_ = logFile.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("the operator's log, its end:\n%s", data[max(0, len(data)-4000):])
		}
	})
	names := map[string]string{}
	for ns, file := range servers {
		names[ns] = serverName(t, file)
		waitReady(t, admin, ns, names[ns])
	}
	stop() // nothing writes while the render is compared

	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cp.AdminConfig())))
	var stream strings.Builder
	checked := 0
	for ns := range servers {
		server, err := admin.Resource(mcpGVR).Namespace(ns).Get(ctx, names[ns], metav1.GetOptions{})
		require.NoError(t, err)
		stored, err := yaml.Marshal(server.Object)
		require.NoError(t, err)
		out, errOut, err := loomRender(t, string(stored), "-f", "-")
		require.NoError(t, err, errOut)
		stream.WriteString(out)
		for _, doc := range yamlDocs(t, out) {
			obj := &unstructured.Unstructured{Object: doc}
			m, err := mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
			require.NoError(t, err)
			ri := admin.Resource(m.Resource).Namespace(obj.GetNamespace())
			live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
			require.NoError(t, err, "%s %s was not applied", obj.GetKind(), obj.GetName())
			dry, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: applied.FieldManager, DryRun: []string{metav1.DryRunAll}})
			require.NoError(t, err, "%s %s", obj.GetKind(), obj.GetName())
			assert.Equal(t, live.GetResourceVersion(), dry.GetResourceVersion(), "%s %s: the dry run would write", obj.GetKind(), obj.GetName())
			live.SetManagedFields(nil)
			dry.SetManagedFields(nil)
			assert.Equal(t, live.Object, dry.Object, "%s %s: applying the render would change it", obj.GetKind(), obj.GetName())
			checked++
		}
	}
	assert.Equal(t, 4+5, checked, "the plain server's objects and the gateway's")

	// The comparison sees a change: the bare templates (--plain) lack loom's labels, which
	// an apply of them by loom's manager would remove.
	server, err := admin.Resource(mcpGVR).Namespace("plain").Get(ctx, names["plain"], metav1.GetOptions{})
	require.NoError(t, err)
	stored, err := yaml.Marshal(server.Object)
	require.NoError(t, err)
	out, _, err := loomRender(t, string(stored), "-f", "-", "--plain")
	require.NoError(t, err)
	dep := &unstructured.Unstructured{Object: yamlDocs(t, out)[1]}
	require.Equal(t, "Deployment", dep.GetKind())
	dry, err := admin.Resource(deploymentsGVR).Namespace("plain").Apply(ctx, dep.GetName(), dep, metav1.ApplyOptions{FieldManager: applied.FieldManager, DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err)
	assert.NotContains(t, dry.GetLabels(), applied.LabelGraph, "the dry run shows the change")

	kubectl := binPath(t, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Logf("no %s: the dry runs above stand for kubectl diff", kubectl)
		return
	}
	file := filepath.Join(t.TempDir(), "rendered.yaml")
	require.NoError(t, os.WriteFile(file, []byte(stream.String()), 0o600))
	cmd := exec.Command(kubectl, "--kubeconfig", cp.Kubeconfig, "diff", "--server-side", "--field-manager="+applied.FieldManager, "-f", file)
	diff, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl diff found changes (exit 1) or failed:\n%s", diff)
	assert.Empty(t, string(diff))
}

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

func serverName(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	obj := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &obj.Object))
	return obj.GetName()
}

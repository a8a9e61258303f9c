package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/internal/controlplane"
)

var mcpGVR = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpservers"}

// TestOperatorNamespaces runs `loom operator --namespaces team-a,team-b` on a real control
// plane as a user that holds nothing but what `loom rbac --namespaces team-a,team-b`
// printed: the server in team-a goes Ready, the one in an unlisted namespace is never
// touched (no status, no object beside it, no request of the operator names its namespace),
// and the operator cannot even list servers cluster-wide.
func TestOperatorNamespaces(t *testing.T) {
	cp, err := controlplane.Start(context.Background(), controlplane.WithAuditLog())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, cp.Stop()) })
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	admin, err := dynamic.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	for _, f := range crd.All() { // MCPServer and the kinds the default graph reads
		require.NoError(t, cp.InstallCRD(ctx, f.Data))
	}
	for _, ns := range []string{"team-a", "team-b", "elsewhere"} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	// The operator user keeps only the Roles loom rbac prints.
	out, err := runLoom(t, "rbac", "--namespaces", "team-a,team-b", "--user", controlplane.OperatorUser)
	require.NoError(t, err, out)
	applied := applyStream(t, admin, out)
	assert.Equal(t, []string{"Role team-a/loom", "RoleBinding team-a/loom", "Role team-b/loom", "RoleBinding team-b/loom"}, applied)
	require.NoError(t, cs.RbacV1().ClusterRoleBindings().Delete(ctx, controlplane.OperatorBinding, metav1.DeleteOptions{}))
	op, err := dynamic.NewForConfig(cp.OperatorConfig())
	require.NoError(t, err)
	// The API server's authorizer sees the deleted binding through its informer, a moment
	// later.
	require.Eventually(t, func() bool {
		_, err = op.Resource(mcpGVR).List(ctx, metav1.ListOptions{})
		return apierrors.IsForbidden(err)
	}, 10*time.Second, 50*time.Millisecond, "the operator user can still list servers cluster-wide")

	// The server outside the list is created first, so the operator has every chance to
	// touch it before the listed one goes Ready.
	outside := createExample(t, admin, "elsewhere")
	started := time.Now()
	stopOperator := runOperatorCmd(t, "--kubeconfig", cp.OperatorKubeconfig, "--namespaces", "team-a,team-b",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	createExample(t, admin, "team-a")
	waitReady(t, admin, "team-a", "weather")
	require.NoError(t, stopOperator())

	// Every request the operator made about an object named a listed namespace.
	reqs, err := cp.Audit.Requests(started)
	require.NoError(t, err)
	byNamespace := map[string]int{}
	for _, r := range reqs {
		if !strings.HasPrefix(r.Resource, "/") { // not discovery
			byNamespace[r.Namespace]++
			assert.Contains(t, []string{"team-a", "team-b"}, r.Namespace, "the operator's %s %s/%s", r.Key(), r.Namespace, r.Name)
		}
	}
	assert.NotZero(t, byNamespace["team-a"], "no request of the operator in team-a")
	t.Logf("the operator's requests on objects, by namespace: %v", byNamespace)

	got, err := admin.Resource(mcpGVR).Namespace("elsewhere").Get(ctx, "weather", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, outside.GetResourceVersion(), got.GetResourceVersion(), "the server outside --namespaces was written")
	assert.Nil(t, got.Object["status"])
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "serviceaccounts"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	} {
		list, err := admin.Resource(gvr).Namespace("elsewhere").List(ctx, metav1.ListOptions{LabelSelector: "loom.dev/graph"})
		require.NoError(t, err)
		assert.Empty(t, list.Items, "%s of loom outside --namespaces", gvr.Resource)
	}
}

// applyStream creates every object of a YAML stream and returns "Kind namespace/name" of each.
func applyStream(t *testing.T, d dynamic.Interface, stream string) []string {
	t.Helper()
	var done []string
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(stream), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return done
		}
		require.NoError(t, err)
		if len(obj.Object) == 0 {
			continue
		}
		gvr := schema.GroupVersionResource{Group: obj.GroupVersionKind().Group, Version: obj.GroupVersionKind().Version}
		switch obj.GetKind() {
		case "Role":
			gvr.Resource = "roles"
		case "RoleBinding":
			gvr.Resource = "rolebindings"
		default:
			t.Fatalf("unexpected %s in loom rbac's output", obj.GetKind())
		}
		_, err = d.Resource(gvr).Namespace(obj.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{})
		require.NoError(t, err)
		done = append(done, obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName())
	}
}

func createExample(t *testing.T, d dynamic.Interface, ns string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile("../../examples/plain.yaml")
	require.NoError(t, err)
	obj := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &obj.Object))
	obj.SetNamespace(ns)
	created, err := d.Resource(mcpGVR).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	require.NoError(t, err)
	return created
}

// runOperatorCmd runs `loom operator args...` in a process of its own (this test binary
// as loom; controller-runtime allows one controller of a name a process, and other tests
// of this package run operators too) until the returned stop, which ends it with SIGTERM
// and says how it ended (nil for a clean stop). A test that failed logs why the operator
// ended and the end of its log.
func runOperatorCmd(t *testing.T, args ...string) (stop func() error) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	op := exec.Command(os.Args[0], append([]string{"operator"}, args...)...)
	op.Env = append(os.Environ(), runMainEnv+"=1")
	op.Stdout, op.Stderr = logFile, logFile
	require.NoError(t, op.Start())
	done := make(chan error, 1)
	go func() { done <- op.Wait() }()
	var result error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			_ = op.Process.Signal(syscall.SIGTERM)
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				_ = op.Process.Kill()
				result = errors.New("loom operator did not stop within 30s of SIGTERM (its caches never synced?)")
			}
			_ = logFile.Close()
		}
		return result
	}
	t.Cleanup(func() {
		err := stop()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("loom operator ended with %v; its log ends:\n%s", err, data[max(0, len(data)-4000):])
		}
	})
	return stop
}

func waitReady(t *testing.T, d dynamic.Interface, ns, name string) {
	t.Helper()
	var last any
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		obj, err := d.Resource(mcpGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		last = obj.Object["status"]
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		if phase == "Ready" {
			return
		}
	}
	t.Fatalf("mcpserver %s/%s never became Ready; last status: %v", ns, name, last)
}

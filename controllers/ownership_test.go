package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	schema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/loom-mcp/loom/engine/render"
)

func mcpServer(ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}}
}

// foreignDeployment is a Deployment somebody else made (Helm, kubectl), with no loom label
// and no ownerReference.
func foreignDeployment(ns, name string) *unstructured.Unstructured {
	labels := map[string]any{"app": name}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "example.com/theirs:1"}}},
			},
		},
	}}
}

// TestOwnership: loom never writes an object that is not this instance's. A Deployment
// somebody else made is left untouched, the server reports it (phase Error, an Event) and
// waits, without retrying, until the way is clear; a shared ServiceAccount the platform
// made is used as it is; of two servers rendering the same Deployment, the first keeps it
// and the second reports the holder, with no write to the object either way.
func TestOwnership(t *testing.T) {
	installMCPCRDs(t)
	d := adminDynamic(t)
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ctx := context.Background()
	ns := "ownership"
	createNamespace(t, ns)

	// The platform's ServiceAccount and somebody's Deployment are there first.
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "mcp-workload"}}, metav1.CreateOptions{FieldManager: "platform"})
	require.NoError(t, err)
	theirs, err := d.Resource(deployGVR).Namespace(ns).Create(ctx, foreignDeployment(ns, "taken"), metav1.CreateOptions{FieldManager: "helm"})
	require.NoError(t, err)

	startOperator(t, mcpGraph(t), mcpConfig)
	create := func(name string, spec map[string]any) {
		t.Helper()
		_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, mcpServer(ns, name, spec), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	create("taken", map[string]any{"image": "ghcr.io/example/tool:1", "ingressHost": "mcp.example.com"})
	create("plain", map[string]any{"image": "ghcr.io/example/tool:1", "ingressHost": "mcp.example.com"})

	// The foreign Deployment: phase Error naming it and why; nothing written to it.
	server := waitMCP(t, d, ns, "taken", func(o *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		return phase == "Error"
	}, "never reported the foreign Deployment")
	msg, _, _ := unstructured.NestedString(server.Object, "status", "message")
	assert.Contains(t, msg, "Deployment taken exists and is not loom's")
	assert.Contains(t, msg, "delete or rename it")
	requireEvent(t, cs, ns, "taken", "NotOwned", "Deployment taken")

	// The platform's ServiceAccount: the other server is Ready, and the account untouched.
	waitMCP(t, d, ns, "plain", readyAt, "never Ready with the platform's ServiceAccount")
	after, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "mcp-workload", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, sa.ResourceVersion, after.ResourceVersion, "the platform's ServiceAccount was written")
	assert.Empty(t, after.OwnerReferences)

	// A terminal error waits for a watch event: no retry, no request about the Deployment.
	quiet := time.Now()
	time.Sleep(5 * time.Second)
	reqs, err := cp.Audit.Requests(quiet)
	require.NoError(t, err)
	for _, r := range reqs {
		assert.False(t, r.Resource == "deployments" && r.Name == "taken", "a request about the foreign Deployment while waiting: %+v", r)
	}
	now := get(t, d, deployGVR, ns, "taken")
	assert.Equal(t, theirs.GetGeneration(), now.GetGeneration(), "the foreign Deployment was written")
	assert.Equal(t, theirs.GetLabels(), now.GetLabels(), "the foreign Deployment was written")
	assert.Empty(t, now.GetOwnerReferences())
	for _, mf := range now.GetManagedFields() {
		assert.NotEqual(t, "loom", mf.Manager, "loom holds fields of the foreign Deployment")
	}

	// Its owner removes it, and the server's next change (any watch event) converges it.
	require.NoError(t, d.Resource(deployGVR).Namespace(ns).Delete(ctx, "taken", metav1.DeleteOptions{}))
	gone(t, d, deployGVR, ns, "taken", "the foreign Deployment")
	_, err = d.Resource(mcpGVR).Namespace(ns).Patch(ctx, "taken", types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	waitMCP(t, d, ns, "taken", readyAt, "never Ready once the way was clear")

	// Collision: "web" with a Canary renders Deployment web-canary, which the server
	// "web-canary" made first. The first keeps it; the second names the holder.
	create("web-canary", map[string]any{"image": "ghcr.io/example/tool:1", "ingressHost": "mcp.example.com"})
	waitMCP(t, d, ns, "web-canary", readyAt, "never Ready")
	held := get(t, d, deployGVR, ns, "web-canary")
	create("web", map[string]any{"image": "ghcr.io/example/tool:2", "ingressHost": "mcp.example.com", "replicas": int64(3),
		"rollout": map[string]any{"strategy": "Canary", "canaryReplicas": int64(1)}})
	server = waitMCP(t, d, ns, "web", func(o *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		return phase == "Error"
	}, "never reported the collision")
	msg, _, _ = unstructured.NestedString(server.Object, "status", "message")
	assert.Contains(t, msg, "Deployment web-canary is held by MCPServer web-canary")
	quiet = time.Now()
	time.Sleep(5 * time.Second)
	reqs, err = cp.Audit.Requests(quiet)
	require.NoError(t, err)
	for _, r := range reqs {
		assert.False(t, r.Verb == "patch" && r.Resource == "deployments", "a Deployment written during the collision: %+v", r)
	}
	now = get(t, d, deployGVR, ns, "web-canary")
	require.Len(t, now.GetOwnerReferences(), 1)
	assert.Equal(t, held.GetOwnerReferences()[0].UID, now.GetOwnerReferences()[0].UID, "the first holder lost its Deployment")
	waitMCP(t, d, ns, "web-canary", readyAt, "the first holder is no longer Ready")
}

// requireEvent waits for an Event of reason (any reason when "") on the object named name
// whose message contains text.
func requireEvent(t *testing.T, cs kubernetes.Interface, ns, name, reason, text string) {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		list, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
		if err != nil {
			continue
		}
		seen = seen[:0]
		for _, e := range list.Items {
			seen = append(seen, e.Reason+": "+e.Message)
			if (reason == "" || e.Reason == reason) && strings.Contains(e.Message, text) {
				return
			}
		}
	}
	t.Fatalf("no %s Event about %q for %s; seen %v", reason, text, name, seen)
}

var rsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}

// TestAdoption: objects MCP Runtime made for a server (its controller ownerReference, field
// manager "manager", create and update) are adopted in place: same objects, loom's labels
// added, and, as loom's template equals what is there, no new ReplicaSet (no Pod
// restarted).
func TestAdoption(t *testing.T) {
	installMCPCRDs(t)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "adoption"
	createNamespace(t, ns)
	server, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, mcpServer(ns, "legacy", map[string]any{
		"image": "ghcr.io/example/tool:1", "ingressHost": "mcp.example.com"}), metav1.CreateOptions{})
	require.NoError(t, err)

	made := madeByMCPRuntime(t, d, server)
	require.Contains(t, made, "Deployment")
	// The Deployment's ReplicaSet: a rollout would make another.
	var rs []unstructured.Unstructured
	require.Eventually(t, func() bool {
		list, err := d.Resource(rsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		rs = list.Items
		return len(rs) == 1
	}, 30*time.Second, 100*time.Millisecond, "the Deployment has no ReplicaSet")

	startOperator(t, mcpGraph(t), mcpConfig)
	waitMCP(t, d, ns, "legacy", readyAt, "never Ready after adoption")
	for kind, before := range made {
		gvr := map[string]schema.GroupVersionResource{"Deployment": deployGVR, "Service": svcGVR, "Ingress": ingressGVR}[kind]
		now := get(t, d, gvr, ns, before.GetName())
		assert.Equal(t, before.GetUID(), now.GetUID(), "%s was replaced, not adopted", kind)
		assert.Equal(t, "legacy", now.GetLabels()["loom.dev/instance"], "%s has no loom label", kind)
		require.Len(t, now.GetOwnerReferences(), 1, kind)
		assert.Equal(t, server.GetUID(), now.GetOwnerReferences()[0].UID, kind)
		if kind == "Deployment" {
			list, err := d.Resource(rsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			require.Len(t, list.Items, 1, "adoption rolled the Deployment: Pods restart")
			assert.Equal(t, rs[0].GetUID(), list.Items[0].GetUID(), "adoption rolled the Deployment: Pods restart")
			assert.Equal(t, before.Object["spec"].(map[string]any)["template"], now.Object["spec"].(map[string]any)["template"], "adoption changed the pod template")
		}
	}
}

// madeByMCPRuntime creates the server's Deployment, Service and Ingress as MCP Runtime's
// operator leaves them: what loom's graph renders, without loom's labels, with a controller
// ownerReference to the server, created by the field manager "manager". It returns them by
// kind.
func madeByMCPRuntime(t *testing.T, d dynamic.Interface, server *unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	res, err := render.Render(context.Background(), mcpGraph(t), render.Input{Instance: server.Object, Config: mcpConfig})
	require.NoError(t, err)
	yes := true
	out := map[string]*unstructured.Unstructured{}
	for _, n := range res.Nodes {
		if n.State != render.Rendered || (n.ID != "deployment" && n.ID != "service" && n.ID != "ingress") {
			continue
		}
		obj := &unstructured.Unstructured{Object: n.Object}
		obj.SetNamespace(server.GetNamespace())
		obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: server.GetAPIVersion(), Kind: server.GetKind(),
			Name: server.GetName(), UID: server.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}})
		gvr := map[string]schema.GroupVersionResource{"Deployment": deployGVR, "Service": svcGVR, "Ingress": ingressGVR}[obj.GetKind()]
		created, err := d.Resource(gvr).Namespace(server.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{FieldManager: "manager"})
		require.NoError(t, err, fmt.Sprintf("%s %s", obj.GetKind(), obj.GetName()))
		out[obj.GetKind()] = created
	}
	return out
}

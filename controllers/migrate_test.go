package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
)

// These tests take over servers the way MCP Runtime's operator leaves them (README,
// "Migrating from MCP Runtime"): objects written with create/update by the field manager
// `manager`, labelled app.kubernetes.io/managed-by=mcp-runtime (pod templates and Service
// selectors too), each with a controller ownerReference to its MCPServer; the namespace's
// ServiceAccount made without one. Their objects are the default graph's render with
// MCP_MANAGED_BY=mcp-runtime: the graph matches MCP Runtime's output field for field
// (testdata/mcpserver), and the policy file gets the generation timestamp MCP Runtime
// writes and loom does not.

const runtimeManager = "manager" // the field manager MCP Runtime's create/update calls get

// runtimeFleet creates n MCPServers of mixed shapes in ns and, for each, the objects MCP
// Runtime's operator would have made; it returns the servers' names.
func runtimeFleet(t *testing.T, g *graph.Graph, ns string, n int) []string {
	t.Helper()
	ctx := context.Background()
	d := adminDynamic(t)
	cfg := map[string]any{"gatewayProxyImage": mcpConfig["gatewayProxyImage"], "managedBy": "mcp-runtime"}
	shapes := []string{
		"image: ghcr.io/acme/plain:1.0\ningressHost: mcp.example.com",
		"image: ghcr.io/acme/hostless:1.0\npublicPathPrefix: hostless",
		"image: ghcr.io/acme/gw:1.0\ningressHost: mcp.example.com\ngateway: {enabled: true}\ntools: [{name: search, sideEffect: read}]",
		"image: ghcr.io/acme/canary:1.0\ningressHost: mcp.example.com\nreplicas: 3\nrollout: {strategy: Canary, canaryReplicas: 1}",
	}
	var names []string
	sharedDone := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("srv-%02d", i)
		names = append(names, name)
		inst := server(t, ns, name, shapes[i%len(shapes)])
		created, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, inst, metav1.CreateOptions{})
		require.NoError(t, err)
		res, err := render.Render(ctx, g, render.Input{Instance: created.Object, Config: cfg})
		require.NoError(t, err)
		require.Empty(t, res.Errors, name)
		for _, node := range res.Nodes {
			if node.State == render.Skipped {
				continue
			}
			require.Equal(t, render.Rendered, node.State, "%s: node %s: %s", name, node.ID, node.Reason)
			obj := &unstructured.Unstructured{Object: node.Object}
			gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
			if n, _ := g.Node(node.ID); n.Shared {
				if sharedDone[node.ID] {
					continue
				}
				sharedDone[node.ID] = true
			} else {
				obj.SetOwnerReferences([]metav1.OwnerReference{{
					APIVersion: "mcpruntime.org/v1alpha1", Kind: "MCPServer", Name: name, UID: created.GetUID(),
					Controller: ptr(true), BlockOwnerDeletion: ptr(true),
				}})
			}
			if obj.GetKind() == "ConfigMap" {
				stampGeneratedAt(t, obj)
			}
			_, err := d.Resource(gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{FieldManager: runtimeManager})
			require.NoError(t, err, "%s %s", obj.GetKind(), obj.GetName())
		}
	}
	return names
}

func ptr[T any](v T) *T { return &v }

// server builds an MCPServer whose spec is the YAML block spec.
func server(t *testing.T, ns, name, spec string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	require.NoError(t, yaml.Unmarshal([]byte("apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nspec: {}\n"), &obj.Object))
	var s map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(spec), &s))
	obj.Object["spec"] = s
	obj.SetNamespace(ns)
	obj.SetName(name)
	return obj
}

// stampGeneratedAt adds the generated_at field MCP Runtime writes into policy.json.
func stampGeneratedAt(t *testing.T, cm *unstructured.Unstructured) {
	t.Helper()
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(data["policy.json"]), &doc))
	doc["generated_at"] = "2026-11-30T08:00:00Z"
	out, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	data["policy.json"] = string(out)
	require.NoError(t, unstructured.SetNestedStringMap(cm.Object, data, "data"))
}

// waitRolledOut waits until every Deployment of ns has all its replicas updated and
// available.
func waitRolledOut(t *testing.T, cs kubernetes.Interface, ns string, want int) {
	t.Helper()
	require.Eventually(t, func() bool {
		list, err := cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(list.Items) != want {
			return false
		}
		for _, dep := range list.Items {
			s := dep.Status
			if s.ObservedGeneration != dep.Generation || s.UpdatedReplicas != *dep.Spec.Replicas ||
				s.AvailableReplicas != *dep.Spec.Replicas || s.Replicas != *dep.Spec.Replicas {
				return false
			}
		}
		return true
	}, 90*time.Second, 200*time.Millisecond, "the Deployments of %s never rolled out", ns)
}

// podUIDs is the set of the namespace's Pods.
func podUIDs(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	uids := map[string]string{}
	for _, p := range pods.Items {
		uids[string(p.UID)] = p.Name
	}
	return uids
}

// trafficWatch watches a namespace from a resource version on: Pods created or deleted,
// and every moment a Service's EndpointSlices held no ready endpoint.
type trafficWatch struct {
	mu        sync.Mutex
	podEvents []string
	unrouted  []string
	ready     map[string]int // EndpointSlice name -> ready endpoints
	service   map[string]string
}

func watchTraffic(t *testing.T, cs kubernetes.Interface, ns string) *trafficWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &trafficWatch{ready: map[string]int{}, service: map[string]string{}}
	// The EndpointSlice controller publishes a rolled-out Deployment's Pods a moment later:
	// wait (boundedly) until every Service routes before the takeover starts.
	var slices *discoveryv1.EndpointSliceList
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		slices, err = cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		w.ready, w.service = map[string]int{}, map[string]string{}
		for i := range slices.Items {
			w.slice(&slices.Items[i])
		}
		unrouted := ""
		for svc, n := range w.byService() {
			if n == 0 {
				unrouted = svc
			}
		}
		if unrouted == "" {
			break
		}
		require.True(t, time.Now().Before(deadline), "Service %s has no ready endpoint 30 s after its Deployments rolled out, before the takeover", unrouted)
		time.Sleep(200 * time.Millisecond)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	podWatch, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: pods.ResourceVersion})
	require.NoError(t, err)
	sliceWatch, err := cs.DiscoveryV1().EndpointSlices(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: slices.ResourceVersion})
	require.NoError(t, err)
	go func() {
		for ev := range podWatch.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && (ev.Type == watch.Added || ev.Type == watch.Deleted) {
				w.mu.Lock()
				w.podEvents = append(w.podEvents, fmt.Sprintf("%s %s", ev.Type, p.Name))
				w.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev := range sliceWatch.ResultChan() {
			s, ok := ev.Object.(*discoveryv1.EndpointSlice)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				s = s.DeepCopy()
				s.Endpoints = nil
			}
			w.mu.Lock()
			w.slice(s)
			svc := s.Labels[discoveryv1.LabelServiceName]
			if n := w.byService()[svc]; n == 0 {
				w.unrouted = append(w.unrouted, fmt.Sprintf("%s at %s", svc, time.Now().Format(time.StampMilli)))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *trafficWatch) slice(s *discoveryv1.EndpointSlice) {
	n := 0
	for _, e := range s.Endpoints {
		if e.Conditions.Ready == nil || *e.Conditions.Ready {
			n++
		}
	}
	w.ready[s.Name] = n
	w.service[s.Name] = s.Labels[discoveryv1.LabelServiceName]
}

func (w *trafficWatch) byService() map[string]int {
	sum := map[string]int{}
	for name, n := range w.ready {
		sum[w.service[name]] += n
	}
	return sum
}

func (w *trafficWatch) seen() (podEvents, unrouted []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.podEvents...), append([]string(nil), w.unrouted...)
}

// TestTakeOverFromMCPRuntime: with MCP_MANAGED_BY=mcp-runtime, loom adopts a fleet MCP
// Runtime's operator made and restarts nothing: no Pod is created or deleted, no Service is
// ever without a ready endpoint, every adopted object carries loom's field manager, and the
// fleet costs no write once Ready.
func TestTakeOverFromMCPRuntime(t *testing.T) {
	installMCPCRDs(t)
	g := mcpGraph(t)
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ns := "takeover"
	createNamespace(t, ns)
	names := runtimeFleet(t, g, ns, 20)
	waitRolledOut(t, cs, ns, 25) // 20 servers, 5 of them Canary with a second Deployment
	before := podUIDs(t, cs, ns)
	traffic := watchTraffic(t, cs, ns)

	begin := time.Now()
	startOperatorIn(t, g, map[string]any{"gatewayProxyImage": mcpConfig["gatewayProxyImage"], "managedBy": "mcp-runtime"}, ns)
	d := adminDynamic(t)
	for _, name := range names {
		waitMCP(t, d, ns, name, readyAt, "Ready")
	}
	t.Logf("20 servers taken over and Ready in %s", time.Since(begin).Round(100*time.Millisecond))

	// Nothing restarted, nothing unrouted.
	podEvents, unrouted := traffic.seen()
	assert.Empty(t, podEvents, "Pods created or deleted during the takeover")
	assert.Empty(t, unrouted, "Services left without a ready endpoint during the takeover")
	assert.Equal(t, before, podUIDs(t, cs, ns))
	rs, err := cs.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, rs.Items, 25, "one ReplicaSet per Deployment: no pod template changed")

	// Every object MCP Runtime made is now loom's too: loom's field manager and labels.
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "deployments"}, {Version: "v1", Resource: "services"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, {Version: "v1", Resource: "configmaps"},
	} {
		list, err := d.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app"})
		require.NoError(t, err)
		require.NotEmpty(t, list.Items, gvr.Resource)
		for _, obj := range list.Items {
			assert.True(t, managedBy(&obj, "loom", metav1.ManagedFieldsOperationApply), "%s %s has no loom apply entry", obj.GetKind(), obj.GetName())
			assert.Equal(t, "mcpserver", obj.GetLabels()["loom.dev/graph"], "%s %s", obj.GetKind(), obj.GetName())
			assert.Len(t, obj.GetOwnerReferences(), 1, "%s %s keeps its one controller", obj.GetKind(), obj.GetName())
		}
	}

	// Adopted and Ready: an idle window costs nothing.
	time.Sleep(2 * time.Second) // let the last status writes land
	idle := time.Now()
	time.Sleep(10 * time.Second)
	reqs, err := cp.Audit.Requests(idle)
	require.NoError(t, err)
	var calls []string
	for _, r := range reqs {
		if r.Namespace == ns {
			calls = append(calls, r.Key()+" "+r.Name)
		}
	}
	assert.Empty(t, calls, "the operator's requests in a 10 s idle window")
	deleteAll(t, ns, names)
}

// TestTakeOverWithoutManagedBy shows what the setting prevents: with the default
// managed-by value, taking over rolls every Deployment (new pod template) and points the
// Service at Pods labelled managed-by=loom that do not exist yet.
func TestTakeOverWithoutManagedBy(t *testing.T) {
	installMCPCRDs(t)
	g := mcpGraph(t)
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ns := "takeover-default"
	createNamespace(t, ns)
	names := runtimeFleet(t, g, ns, 2)
	waitRolledOut(t, cs, ns, 2)
	before := podUIDs(t, cs, ns)
	traffic := watchTraffic(t, cs, ns)

	startOperatorIn(t, g, mcpConfig, ns)
	d := adminDynamic(t)
	for _, name := range names {
		waitMCP(t, d, ns, name, readyAt, "Ready")
		svc, err := cs.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "loom", svc.Spec.Selector["app.kubernetes.io/managed-by"], "the Service selector switched at once")
	}
	waitRolledOut(t, cs, ns, 2)
	after := podUIDs(t, cs, ns)
	for uid, name := range before {
		assert.NotContains(t, after, uid, "Pod %s survived: the takeover should have rolled it", name)
	}
	podEvents, unrouted := traffic.seen()
	assert.NotEmpty(t, podEvents, "the rollout creates and deletes Pods")
	t.Logf("without MCP_MANAGED_BY: %d Pod events; Services without a ready endpoint: %v", len(podEvents), unrouted)
	deleteAll(t, ns, names)
}

func managedBy(obj *unstructured.Unstructured, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, f := range obj.GetManagedFields() {
		if f.Manager == manager && f.Operation == op {
			return true
		}
	}
	return false
}

// deleteAll deletes the servers, so later tests' operators do not reconcile them.
func deleteAll(t *testing.T, ns string, names []string) {
	t.Helper()
	d := adminDynamic(t)
	for _, name := range names {
		require.NoError(t, d.Resource(mcpGVR).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{}))
	}
}

// TestCRDSwapKeepsServers: loom's CRD applied over MCP Runtime's (same group, kind and
// version) keeps every stored MCPServer's spec and status. The CRD replaced stands in for
// MCP Runtime's: the same names and version, with spec and status stored as written.
func TestCRDSwapKeepsServers(t *testing.T) {
	installMCPCRDs(t)
	ctx := context.Background()
	cs, err := apiextensions.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/previous-crd.yaml")
	require.NoError(t, err)
	previous := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, yaml.UnmarshalStrict(data, previous))
	loom := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, yaml.UnmarshalStrict(crd.MCPServer, loom))
	swap := func(to *apiextensionsv1.CustomResourceDefinition) {
		cur, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, to.Name, metav1.GetOptions{})
		require.NoError(t, err)
		cur.Spec = to.Spec
		_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, cur, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	swap(previous)
	t.Cleanup(func() { swap(loom) })

	ns := "crd-swap"
	createNamespace(t, ns)
	d := adminDynamic(t)
	specs := map[string]string{
		"plain":   "image: ghcr.io/acme/plain\nimageTag: latest\nreplicas: 1\nport: 8088\nservicePort: 80\ningressPath: /plain/mcp\npublicPathPrefix: plain\ningressClass: traefik",
		"gateway": "image: ghcr.io/acme/gw:1.0\nreplicas: 2\nport: 8088\nservicePort: 80\npublicPathPrefix: gw\ningressClass: traefik\ngateway: {enabled: true, port: 8091, upstreamURL: 'http://127.0.0.1:8088'}\nauth: {mode: header, humanIDHeader: X-MCP-Human-ID}\ntools: [{name: search, sideEffect: read, requiredTrust: low}]",
		"canary":  "image: ghcr.io/acme/c:2\nreplicas: 3\nport: 8088\nservicePort: 80\npublicPathPrefix: c\ningressClass: traefik\nrollout: {strategy: Canary, canaryReplicas: 1, maxSurge: 25%, maxUnavailable: 25%}",
	}
	status := map[string]any{
		"phase": "Ready", "message": "all components ready", "deploymentReady": true, "serviceReady": true,
		"ingressReady": true, "policyReady": false, "gatewayReady": false, "canaryReady": false,
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ready", "message": "ready",
			"lastTransitionTime": "2026-11-30T08:00:00Z", "observedGeneration": int64(1)}},
	}
	stored := map[string]*unstructured.Unstructured{}
	for name, spec := range specs {
		obj, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, server(t, ns, name, spec), metav1.CreateOptions{})
		require.NoError(t, err)
		obj.Object["status"] = status
		obj, err = d.Resource(mcpGVR).Namespace(ns).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		require.NoError(t, err)
		stored[name] = obj
	}

	swap(loom)
	for name, want := range stored {
		require.Eventually(t, func() bool {
			got, err := d.Resource(mcpGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false
			}
			// loom's CRD has defaults: fields the stored spec leaves unset may appear, none
			// that is set may change or go.
			return assert.ObjectsAreEqual(want.Object["status"], got.Object["status"]) &&
				subset(want.Object["spec"], got.Object["spec"])
		}, 30*time.Second, 200*time.Millisecond, "MCPServer %s lost part of its spec or status under loom's CRD", name)
	}
	for name := range stored {
		require.NoError(t, d.Resource(mcpGVR).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{}))
	}
}

// subset: every field of want is in got with the same value.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	default:
		return assert.ObjectsAreEqual(want, got)
	}
}

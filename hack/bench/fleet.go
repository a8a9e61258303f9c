package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/internal/controlplane"
)

var (
	mcpGVR     = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpservers"}
	deployGVR  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ingressGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	grantGVR   = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpaccessgrants"}
	cmGVR      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// gatewayImage is the operator's MCP_GATEWAY_PROXY_IMAGE in both runs.
const gatewayImage = "ghcr.io/loom-mcp/mcp-gateway:1.0.0"

// shapes are the kinds of MCPServer the fleet mixes, in turn.
var shapes = []string{"host routing", "hostless prefix", "env vars", "replicas 2", "custom resources", "gateway on"}

// server is the i-th MCPServer of the fleet, one of shapes in turn, in one of ns
// namespaces in turn.
func server(i, ns int) *unstructured.Unstructured {
	name := fmt.Sprintf("mcp-%04d", i)
	spec := map[string]any{"image": fmt.Sprintf("ghcr.io/example/tool-%d:1.0.%d", i%3, i)}
	switch i % len(shapes) {
	case 0:
		spec["ingressHost"] = "mcp.example.com"
	case 1:
		spec["publicPathPrefix"] = fmt.Sprintf("team-%d/%s", i%7, name)
	case 2:
		spec["envVars"] = []any{
			map[string]any{"name": "MODE", "value": "fast"},
			map[string]any{"name": "LOG_LEVEL", "value": "debug"},
		}
	case 3:
		spec["replicas"] = int64(2)
	case 4:
		spec["resources"] = map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"cpu": "1", "memory": "512Mi"},
		}
		spec["mcpResources"] = []any{map[string]any{"name": "handbook", "description": "The handbook as markdown."}}
	case 5:
		spec["ingressHost"] = "tools.example.com"
		spec["gateway"] = map[string]any{"enabled": true}
		spec["tools"] = []any{
			map[string]any{"name": "search", "sideEffect": "read"},
			map[string]any{"name": "delete", "sideEffect": "destructive", "requiredTrust": "high"},
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": name, "namespace": namespace(i, ns)},
		"spec":     spec,
	}}
}

func namespace(i, ns int) string { return fmt.Sprintf("bench-%02d", i%ns) }

// prepare readies a fresh control plane for a fleet: the MCPServer CRD, served; the
// namespaces; and, for the operator, the least privileges the graph needs in place of
// cluster-admin.
func prepare(ctx context.Context, cp *controlplane.ControlPlane, g *graph.Graph, namespaces int) error {
	admin := cp.AdminConfig()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	if err := installCRD(ctx, admin); err != nil {
		return err
	}
	// The API server's first write of a new custom resource kind takes about 2 s here, once:
	// pay it before the clock starts, in neither run's time.
	d, err := dynamic.NewForConfig(admin)
	if err != nil {
		return err
	}
	warm := server(0, 1)
	warm.SetNamespace(metav1.NamespaceDefault)
	warm.SetName("warm-up")
	if _, err := d.Resource(mcpGVR).Namespace(metav1.NamespaceDefault).Create(ctx, warm, metav1.CreateOptions{}); err != nil {
		return err
	}
	if err := d.Resource(mcpGVR).Namespace(metav1.NamespaceDefault).Delete(ctx, warm.GetName(), metav1.DeleteOptions{}); err != nil {
		return err
	}
	for i := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace(i, namespaces)}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	const name = "loom-bench"
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: controllers.Rules(g),
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: controlplane.OperatorUser}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	return cs.RbacV1().ClusterRoleBindings().Delete(ctx, controlplane.OperatorBinding, metav1.DeleteOptions{})
}

// installCRD installs MCPServer and the kinds the default graph reads (its informers need
// them), each once it is established.
func installCRD(ctx context.Context, admin *rest.Config) error {
	for _, f := range crd.All() {
		if err := installOneCRD(ctx, admin, f.Data); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

func installOneCRD(ctx context.Context, admin *rest.Config, data []byte) error {
	def := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, def); err != nil {
		return err
	}
	cs, err := apiextensions.NewForConfig(admin)
	if err != nil {
		return err
	}
	if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, def, metav1.CreateOptions{}); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, def.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// tracker watches, as admin, the MCPServers, Deployments and Ingresses of the fleet and
// records when each became ready, from the moment start is called. Both runs watch the
// same things, so the watches load the control plane equally.
type tracker struct {
	n int

	mu          sync.Mutex
	start       time.Time
	servers     map[string]time.Duration // ns/name → first Ready for its generation
	deployments map[string]time.Duration // → first rolled out (the graph's readyWhen)
	ingresses   map[string]time.Duration // → first with a load-balancer address
	changed     chan struct{}
}

func newTracker(ctx context.Context, admin *rest.Config, n int) (*tracker, error) {
	d, err := dynamic.NewForConfig(admin)
	if err != nil {
		return nil, err
	}
	t := &tracker{n: n, servers: map[string]time.Duration{}, deployments: map[string]time.Duration{},
		ingresses: map[string]time.Duration{}, changed: make(chan struct{}, 1)}
	f := dynamicinformer.NewDynamicSharedInformerFactory(d, 0)
	watch := func(gvr schema.GroupVersionResource, seen map[string]time.Duration, ok func(*unstructured.Unstructured) bool) error {
		record := func(obj any) {
			u, isU := obj.(*unstructured.Unstructured)
			if !isU || !ok(u) {
				return
			}
			t.mu.Lock()
			defer t.mu.Unlock()
			key := u.GetNamespace() + "/" + u.GetName()
			if _, done := seen[key]; done || t.start.IsZero() {
				return
			}
			seen[key] = time.Since(t.start)
			select {
			case t.changed <- struct{}{}:
			default:
			}
		}
		_, err := f.ForResource(gvr).Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    record,
			UpdateFunc: func(_, obj any) { record(obj) },
		})
		return err
	}
	if err := watch(mcpGVR, t.servers, serverReady); err != nil {
		return nil, err
	}
	if err := watch(deployGVR, t.deployments, deploymentReady); err != nil {
		return nil, err
	}
	if err := watch(ingressGVR, t.ingresses, ingressReady); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	for gvr, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("the %s informer did not sync", gvr.Resource)
		}
	}
	return t, nil
}

// begin starts the clock.
func (t *tracker) begin() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start = time.Now()
	return t.start
}

// progress is how far the fleet got: servers Ready, and servers whose Deployment and
// Ingress are both ready, with the time the last of each became so.
type progress struct {
	servers, objects         int
	serversLast, objectsLast time.Duration
}

func (t *tracker) progress() progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := progress{servers: len(t.servers)}
	for _, d := range t.servers {
		p.serversLast = max(p.serversLast, d)
	}
	for key, d := range t.deployments {
		if i, ok := t.ingresses[key]; ok {
			p.objects++
			p.objectsLast = max(p.objectsLast, d, i)
		}
	}
	return p
}

// wait returns once done(progress) holds or timeout passes, printing a progress line
// every 2 s.
func (t *tracker) wait(ctx context.Context, label string, timeout time.Duration, done func(progress) bool) (progress, error) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	deadline := time.After(timeout)
	for {
		p := t.progress()
		if done(p) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-deadline:
			return p, fmt.Errorf("%s: not done after %s: %d/%d servers Ready, %d/%d with their objects ready", label, timeout, p.servers, t.n, p.objects, t.n)
		case <-t.changed:
		case <-tick.C:
			t.mu.Lock()
			elapsed := time.Since(t.start)
			t.mu.Unlock()
			if label == "loom" {
				fmt.Printf("%s: ready %d/%d (%.1fs); objects ready %d/%d\n", label, p.servers, t.n, elapsed.Seconds(), p.objects, t.n)
			} else {
				fmt.Printf("%s: ready %d/%d (%.1fs)\n", label, p.objects, t.n, elapsed.Seconds())
			}
		}
	}
}

// serverReady: Ready for the current generation, as the integration tests wait for.
func serverReady(u *unstructured.Unstructured) bool {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	gen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return phase == "Ready" && gen == u.GetGeneration()
}

// deploymentReady is the MCPServer graph's readyWhen of its Deployment: the controller saw
// the current spec, and every replica is updated, available and ready.
func deploymentReady(u *unstructured.Unstructured) bool {
	want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if observed != u.GetGeneration() {
		return false
	}
	for _, field := range []string{"replicas", "updatedReplicas", "availableReplicas", "readyReplicas"} {
		if v, _, _ := unstructured.NestedInt64(u.Object, "status", field); v != want {
			return false
		}
	}
	return true
}

// ingressReady: the ingress controller (kwok here) published an address.
func ingressReady(u *unstructured.Unstructured) bool {
	lb, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
	return len(lb) > 0
}

// userConfig is the client of the person creating the fleet, in both runs: fast enough that
// creating the fleet is not what either run waits for.
func userConfig(cp *controlplane.ControlPlane) *rest.Config {
	c := cp.AdminConfig()
	c.QPS, c.Burst = 1000, 1000
	c.UserAgent = "loom-bench-user"
	return c
}

// createFleet creates the n MCPServers, 32 at a time, and hands each created object to
// created (when not nil). It returns how long creating them all took.
func createFleet(ctx context.Context, user *rest.Config, n, namespaces int, created func(*unstructured.Unstructured)) (time.Duration, error) {
	d, err := dynamic.NewForConfig(user)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begin := time.Now()
	jobs := make(chan int)
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				obj := server(i, namespaces)
				out, err := d.Resource(mcpGVR).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{})
				if err != nil {
					errs <- fmt.Errorf("creating %s: %w", obj.GetName(), err)
					cancel()
					return
				}
				if created != nil {
					created(out)
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return time.Since(begin), ctx.Err()
}

package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/engine/graph"
	engineschema "github.com/loom-mcp/loom/engine/schema"
)

var (
	grantGVR   = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpaccessgrants"}
	sessionGVR = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpagentsessions"}
)

// installMCPCRDs installs MCPServer and the kinds the default graph reads.
func installMCPCRDs(t *testing.T) {
	t.Helper()
	for _, f := range crd.All() {
		installCRD(t, f.Data)
	}
}

// fastDynamic is the admin's client without client-go's default 5 requests a second, for
// tests that create objects by the thousand.
func fastDynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	cfg := cp.AdminConfig()
	cfg.QPS, cfg.Burst = 2000, 4000
	d, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return d
}

func gatewayServer(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"image": "ghcr.io/example/tool:1.0", "gateway": map[string]any{"enabled": true}},
	}}
}

func newGrant(ns, name, serverNS, server, human string) *unstructured.Unstructured {
	ref := map[string]any{"name": server}
	if serverNS != "" {
		ref["namespace"] = serverNS
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPAccessGrant",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"serverRef": ref, "subject": map[string]any{"humanID": human}},
	}}
}

// policyOf reads a server's policy.json; nil when its ConfigMap does not exist.
func policyOf(t *testing.T, d dynamic.Interface, ns, server string) (map[string]any, string) {
	t.Helper()
	cm, err := d.Resource(cmGVR).Namespace(ns).Get(context.Background(), server+"-gateway-policy", metav1.GetOptions{})
	if err != nil {
		return nil, ""
	}
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "policy.json")
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &p))
	return p, cm.GetResourceVersion()
}

// grantNames lists the namespace/name of the grants in a policy.
func grantNames(p map[string]any, key string) []string {
	var out []string
	list, _ := p[key].([]any)
	for _, g := range list {
		m := g.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%s", m["namespace"], m["name"]))
	}
	return out
}

// waitPolicy polls a server's policy until ok holds.
func waitPolicy(t *testing.T, d dynamic.Interface, ns, server string, ok func(map[string]any) bool, what string) map[string]any {
	t.Helper()
	var last map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p, _ := policyOf(t, d, ns, server); p != nil {
			last = p
			if ok(p) {
				return p
			}
		}
	}
	t.Fatalf("policy of %s/%s: %s; last seen: %v", ns, server, what, last)
	return nil
}

// TestGrantsReachThePolicy: grants and sessions from any namespace reach the policy of the
// server they name, when created, changed and deleted, and of no other server; a grant
// naming no server costs nothing.
func TestGrantsReachThePolicy(t *testing.T) {
	installMCPCRDs(t)
	startOperator(t, mcpGraph(t), mcpConfig)
	d := adminDynamic(t)
	ctx := context.Background()
	ns, other := "grants", "grants-team"
	createNamespace(t, ns)
	createNamespace(t, other)
	for _, name := range []string{"alpha", "beta"} {
		_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, gatewayServer(ns, name), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	waitPolicy(t, d, ns, "alpha", func(map[string]any) bool { return true }, "never written")
	waitPolicy(t, d, ns, "beta", func(map[string]any) bool { return true }, "never written")
	time.Sleep(time.Second) // the servers' own reconciles settle
	_, betaVersion := policyOf(t, d, ns, "beta")

	// Created, in another namespace, naming alpha across namespaces.
	_, err := d.Resource(grantGVR).Namespace(other).Create(ctx, newGrant(other, "alice", ns, "alpha", "alice"), metav1.CreateOptions{})
	require.NoError(t, err)
	waitPolicy(t, d, ns, "alpha", func(p map[string]any) bool {
		return assert.ObjectsAreEqual([]string{"grants-team/alice"}, grantNames(p, "grants"))
	}, "the grant never arrived")

	// Changed.
	_, err = d.Resource(grantGVR).Namespace(other).Patch(ctx, "alice", types.MergePatchType, []byte(`{"spec":{"maxTrust":"high","disabled":true}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	p := waitPolicy(t, d, ns, "alpha", func(p map[string]any) bool {
		g, _ := p["grants"].([]any)
		return len(g) == 1 && g[0].(map[string]any)["max_trust"] == "high"
	}, "the change never arrived")
	assert.Equal(t, true, p["grants"].([]any)[0].(map[string]any)["disabled"], "a disabled grant stays, flagged")

	// A session in the server's namespace.
	session := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPAgentSession",
		"metadata": map[string]any{"name": "planner", "namespace": ns},
		"spec":     map[string]any{"serverRef": map[string]any{"name": "alpha"}, "subject": map[string]any{"agentID": "planner"}, "revoked": true},
	}}
	_, err = d.Resource(sessionGVR).Namespace(ns).Create(ctx, session, metav1.CreateOptions{})
	require.NoError(t, err)
	waitPolicy(t, d, ns, "alpha", func(p map[string]any) bool {
		return assert.ObjectsAreEqual([]string{"grants/planner"}, grantNames(p, "sessions"))
	}, "the session never arrived")

	// Deleted.
	require.NoError(t, d.Resource(grantGVR).Namespace(other).Delete(ctx, "alice", metav1.DeleteOptions{}))
	p = waitPolicy(t, d, ns, "alpha", func(p map[string]any) bool { return p["grants"] == nil }, "the grant never left")
	// Writing the policy is followed by a status write: alpha's PolicyReady condition names
	// the revision the ConfigMap holds. Quiet is measured from there.
	waitMCP(t, d, ns, "alpha", func(s *unstructured.Unstructured) bool {
		return strings.Contains(conditionMessage(s, "PolicyReady"), "holds policy revision "+p["revision"].(string))
	}, "the status never named the policy's new revision")

	// beta's policy was never written while alpha's grants came and went.
	_, v := policyOf(t, d, ns, "beta")
	assert.Equal(t, betaVersion, v, "beta's policy was written for grants that name alpha")

	// A grant naming a server that does not exist: no write and no GET.
	start := time.Now()
	_, err = d.Resource(grantGVR).Namespace(ns).Create(ctx, newGrant(ns, "nobody", "", "missing", "bob"), metav1.CreateOptions{})
	require.NoError(t, err)
	time.Sleep(2 * time.Second)
	assertQuiet(t, start, "after a grant for a server that does not exist")
}

// assertQuiet checks the audit log since start: no write and no GET of an object by the
// operator, and discovery only as often as assertDiscoveryBounded allows.
func assertQuiet(t *testing.T, start time.Time, when string) map[string]int {
	t.Helper()
	counts, err := cp.Audit.Count(start)
	require.NoError(t, err)
	writes, gets := writesAndGets(counts)
	assert.Empty(t, writes, "writes %s", when)
	assert.Empty(t, gets, "GETs %s", when)
	assertDiscoveryBounded(t, counts, time.Since(start))
	return counts
}

// writesAndGets are the writes and the GETs of objects among the operator's requests.
// Discovery's GETs (of a URL path, "get /apis/cert-manager.io/v1") are not among them.
func writesAndGets(counts map[string]int) (writes, gets []string) {
	for key, n := range counts {
		verb, resource, _ := strings.Cut(key, " ")
		switch {
		case strings.HasPrefix(resource, "/"):
		case verb == "create", verb == "update", verb == "patch", verb == "delete", verb == "deletecollection":
			writes = append(writes, fmt.Sprintf("%s ×%d", key, n))
		case verb == "get":
			gets = append(gets, fmt.Sprintf("%s ×%d", key, n))
		}
	}
	return writes, gets
}

// assertDiscoveryBounded checks the discovery requests among counts, made over window:
// while an instance (of this test or one that ran before it) waits for a kind of the graph
// that is not served (the default graph's cert-manager and Traefik kinds, when no test
// installed their CRDs), the operator asks for its group version once a period
// (testDiscoveryPeriod), and asks nothing else.
func assertDiscoveryBounded(t *testing.T, counts map[string]int, window time.Duration) {
	t.Helper()
	most := int(window/testDiscoveryPeriod) + 1
	for key, n := range counts {
		verb, resource, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(resource, "/") {
			continue
		}
		assert.Equal(t, "get", verb, "discovery: %s", key)
		assert.True(t, strings.HasPrefix(resource, "/apis/"), "discovery of %s", resource)
		assert.LessOrEqual(t, n, most, "%s: more than one a period over %s", key, window)
	}
}

// TestGrantsAtScale: 200 servers and 1,000 grants (half from another namespace): once every
// policy holds its grants, 30 s of nothing changing cost no write and no GET, and one grant
// change costs exactly one ConfigMap write (the policy of the server it names).
func TestGrantsAtScale(t *testing.T) {
	const servers, perServer = 200, 5
	installMCPCRDs(t)
	startOperator(t, mcpGraph(t), mcpConfig)
	d := fastDynamic(t)
	ctx := context.Background()
	ns, other := "scale", "scale-grants"
	createNamespace(t, ns)
	createNamespace(t, other)

	var objs []struct {
		gvr schema.GroupVersionResource
		obj *unstructured.Unstructured
	}
	for i := 0; i < servers; i++ {
		name := fmt.Sprintf("s%03d", i)
		objs = append(objs, struct {
			gvr schema.GroupVersionResource
			obj *unstructured.Unstructured
		}{mcpGVR, gatewayServer(ns, name)})
		for j := 0; j < perServer; j++ {
			g := newGrant(ns, fmt.Sprintf("%s-g%d", name, j), "", name, fmt.Sprintf("user-%d", j))
			if j%2 == 1 {
				g = newGrant(other, fmt.Sprintf("%s-g%d", name, j), ns, name, fmt.Sprintf("user-%d", j))
			}
			objs = append(objs, struct {
				gvr schema.GroupVersionResource
				obj *unstructured.Unstructured
			}{grantGVR, g})
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make([]error, len(objs))
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				o := objs[i].obj
				_, errs[i] = d.Resource(objs[i].gvr).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{})
			}
		}()
	}
	for i := range objs {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	// Every server Ready, every policy with its five grants.
	require.Eventually(t, func() bool {
		list, err := d.Resource(mcpGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		ready := 0
		for i := range list.Items {
			if readyAt(&list.Items[i]) {
				ready++
			}
		}
		return ready == servers
	}, 5*time.Minute, time.Second, "not every server became Ready")
	require.Eventually(t, func() bool {
		list, err := d.Resource(cmGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		full := 0
		for _, cm := range list.Items {
			raw, _, _ := unstructured.NestedString(cm.Object, "data", "policy.json")
			var p map[string]any
			if json.Unmarshal([]byte(raw), &p) == nil && len(grantNames(p, "grants")) == perServer {
				full++
			}
		}
		return full == servers
	}, 2*time.Minute, time.Second, "not every policy holds its grants")

	time.Sleep(2 * time.Second) // the last status writes and their events settle
	start := time.Now()
	time.Sleep(30 * time.Second)
	counts := assertQuiet(t, start, "in the idle window")
	t.Logf("idle window with %d servers and %d grants, requests by verb and resource: %v", servers, servers*perServer, counts)

	// One grant change: one ConfigMap write, for the server it names.
	start = time.Now()
	_, err := d.Resource(grantGVR).Namespace(other).Patch(ctx, "s042-g1", types.MergePatchType, []byte(`{"spec":{"maxTrust":"medium"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	waitPolicy(t, d, ns, "s042", func(p map[string]any) bool {
		for _, g := range p["grants"].([]any) {
			if m := g.(map[string]any); m["name"] == "s042-g1" {
				return m["max_trust"] == "medium"
			}
		}
		return false
	}, "the change never arrived")
	time.Sleep(2 * time.Second) // the reconcile its own write causes, and the status write
	counts, err = cp.Audit.Count(start)
	require.NoError(t, err)
	assert.Equal(t, 1, counts["patch configmaps"], "ConfigMap writes for one grant change: %v", counts)
	writes, gets := writesAndGets(counts)
	assert.Empty(t, gets)
	t.Logf("one grant change, writes: %v", writes)
}

const readerGraph = `apiVersion: loom.dev/v1alpha1
kind: ResourceGraph
metadata: {name: reader}
spec:
  instance: {apiVersion: example.loom.dev/v1, kind: App}
  resources:
  - id: source
    read: {apiVersion: v1, kind: ConfigMap, name: "${schema.metadata.name}-source"}
  - id: peers
    read: {apiVersion: v1, kind: ConfigMap, selector: {matchLabels: {peer: "true"}}}
  - id: copy
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-copy"}
      data: '${ {"value": source.data.value, "peers": peers.map(p, p.metadata.name).join(",")} }'
  status:
    phase: '${ ready.copy ? "Ready" : "Pending" }'
`

// TestReadsByNameAndNamespace: a read by name waits for its object and follows it; a
// collection of the instance's namespace without instanceKey follows its members. Both are
// objects loom did not make, of a kind it also renders.
func TestReadsByNameAndNamespace(t *testing.T) {
	installAppCRD(t)
	s, err := engineschema.Builtin()
	require.NoError(t, err)
	crdData, err := os.ReadFile("../testdata/engine/crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(crdData, "crd.yaml")
	require.NoError(t, err)
	g, err := graph.Load("reader.yaml", []byte(readerGraph), graph.WithSchemas(s))
	require.NoError(t, err)
	startOperator(t, g, nil)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "reads"
	createNamespace(t, ns)
	_, err = d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, "web", map[string]any{"image": "nginx"}), metav1.CreateOptions{})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Pending")

	copyOf := func(want map[string]any) {
		t.Helper()
		waitFor(t, d, cmGVR, ns, "web-copy", 30*time.Second, func(o *unstructured.Unstructured) bool {
			data, _, _ := unstructured.NestedMap(o.Object, "data")
			return assert.ObjectsAreEqual(want, data)
		}, fmt.Sprintf("never held %v", want))
	}
	cm := func(name string, labels map[string]any, data map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
			"data":     data,
		}}
	}
	// The object read by name appears: the instance that waited for it renders.
	_, err = d.Resource(cmGVR).Namespace(ns).Create(ctx, cm("web-source", nil, map[string]any{"value": "one"}), metav1.CreateOptions{})
	require.NoError(t, err)
	copyOf(map[string]any{"value": "one", "peers": ""})
	waitPhase(t, d, ns, "web", "Ready")

	// It changes: the copy follows.
	_, err = d.Resource(cmGVR).Namespace(ns).Patch(ctx, "web-source", types.MergePatchType, []byte(`{"data":{"value":"two"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	copyOf(map[string]any{"value": "two", "peers": ""})

	// A member of the collection appears, then another, then one leaves it.
	for _, name := range []string{"zeta", "alpha"} {
		_, err = d.Resource(cmGVR).Namespace(ns).Create(ctx, cm(name, map[string]any{"peer": "true"}, nil), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	copyOf(map[string]any{"value": "two", "peers": "alpha,zeta"})
	_, err = d.Resource(cmGVR).Namespace(ns).Patch(ctx, "zeta", types.MergePatchType, []byte(`{"metadata":{"labels":{"peer":null}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	copyOf(map[string]any{"value": "two", "peers": "alpha"})

	// The object read by name goes: the copy stays as it was (nothing renders it), and the
	// objects loom did not make are untouched.
	require.NoError(t, d.Resource(cmGVR).Namespace(ns).Delete(ctx, "web-source", metav1.DeleteOptions{}))
	waitPhase(t, d, ns, "web", "Pending")
	for _, name := range []string{"zeta", "alpha"} {
		obj, err := d.Resource(cmGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Empty(t, obj.GetOwnerReferences(), "loom took %s", name)
	}
}

// conditionMessage is the message of an instance's status condition of that type.
func conditionMessage(obj *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	return ""
}

package controllers_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/loom-mcp/loom/controllers"
)

var gizmoGVR = schema.GroupVersionResource{Group: "optional.loom.dev", Version: "v1", Resource: "gizmos"}

// freeAddr is a local TCP address nothing listens on (the moment it is returned).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// requireReadyz checks that the operator's /readyz answers 200.
func requireReadyz(t *testing.T, addr, when string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "/readyz %s: %s", when, body)
}

// servesResource reports whether discovery lists gvr.
func servesResource(t *testing.T, gvr schema.GroupVersionResource) bool {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	list, err := cs.Discovery().ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(t, err)
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			return true
		}
	}
	return false
}

// TestOptionalKinds: the operator starts on a cluster that does not serve a kind of its
// graph (Gizmo: its CRD is not installed), is Ready, and serves the instances that do not
// need the kind; an instance that renders a Gizmo, and one that reads one, are in phase
// Error naming the CRD to install, with nothing applied. Once the CRD is installed, the
// same operator, never restarted, watches the kind, applies the Gizmo and reads the other.
func TestOptionalKinds(t *testing.T) {
	installAppCRD(t)
	require.False(t, servesResource(t, gizmoGVR), "the Gizmo CRD must be absent when the test starts")
	probe := freeAddr(t)
	runOperatorAs(t, controllers.LoadOptionalGraph(t), nil, operatorRun{probeAddr: probe})
	requireReadyz(t, probe, "with the Gizmo CRD absent")

	d := adminDynamic(t)
	ctx := context.Background()
	ns := "optional-kinds"
	createNamespace(t, ns)
	apps := map[string]map[string]any{
		"plain":  {"image": "nginx"},
		"maker":  {"image": "nginx", "env": map[string]any{"gizmo": "large"}},
		"reader": {"image": "nginx", "env": map[string]any{"blueprint": "blue"}},
	}
	for name, spec := range apps {
		_, err := d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, name, spec), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	waitPhase(t, d, ns, "plain", "Ready")
	get(t, d, cmGVR, ns, "plain-settings")
	for name, id := range map[string]string{"maker": "gizmo", "reader": "blueprint"} {
		app := waitPhase(t, d, ns, name, "Error")
		assert.Equal(t, fmt.Sprintf("resource %s: kind Gizmo (optional.loom.dev/v1) is not served by the API server; install its CRD (gizmos.optional.loom.dev)", id),
			readyMessage(app), name)
		_, err := d.Resource(cmGVR).Namespace(ns).Get(ctx, name+"-settings", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%s: nothing is applied while a kind it needs is not served; got %v", name, err)
	}
	requireReadyz(t, probe, "with instances in Error for the absent kind")

	// The CRD appears: without a restart, the maker applies its Gizmo and goes Ready, the
	// reader waits for the Gizmo it reads, then copies it.
	data, err := os.ReadFile("testdata/gizmo-crd.yaml")
	require.NoError(t, err)
	installed := time.Now()
	installCRD(t, data)
	waitPhase(t, d, ns, "maker", "Ready")
	t.Logf("the maker was Ready %.1fs after the CRD was installed", time.Since(installed).Seconds())
	gizmo := get(t, d, gizmoGVR, ns, "maker")
	size, _, _ := unstructured.NestedString(gizmo.Object, "spec", "size")
	assert.Equal(t, "large", size)
	require.Len(t, gizmo.GetOwnerReferences(), 1)
	assert.Equal(t, "maker", gizmo.GetOwnerReferences()[0].Name)
	get(t, d, cmGVR, ns, "maker-settings")

	waitPhase(t, d, ns, "reader", "Pending")
	blue := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "optional.loom.dev/v1", "kind": "Gizmo",
		"metadata": map[string]any{"name": "blue", "namespace": ns},
		"spec":     map[string]any{"size": "small"},
	}}
	_, err = d.Resource(gizmoGVR).Namespace(ns).Create(ctx, blue, metav1.CreateOptions{})
	require.NoError(t, err)
	waitPhase(t, d, ns, "reader", "Ready")
	copied := get(t, d, cmGVR, ns, "reader-copy")
	assert.Equal(t, map[string]any{"size": "small"}, copied.Object["data"])
	waitPhase(t, d, ns, "plain", "Ready")
	requireReadyz(t, probe, "after the CRD was installed")
}

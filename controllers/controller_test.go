package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	schema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

var (
	deployGVR  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	svcGVR     = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	cmGVR      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	ingressGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
)

func createNamespace(t *testing.T, name string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	_, err = cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
}

func waitPhase(t *testing.T, d dynamic.Interface, ns, name, phase string) *unstructured.Unstructured {
	t.Helper()
	return waitFor(t, d, appGVR, ns, name, 120*time.Second, func(obj *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		return got == phase
	}, "never reached phase "+phase)
}

// waitFor polls an object until ok holds, and fails naming what was awaited and the last
// status seen.
func waitFor(t *testing.T, d dynamic.Interface, gvr schema.GroupVersionResource, ns, name string, within time.Duration, ok func(*unstructured.Unstructured) bool, what string) *unstructured.Unstructured {
	t.Helper()
	var last *unstructured.Unstructured
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		obj, err := d.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		last = obj
		if ok(obj) {
			return obj
		}
	}
	t.Fatalf("%s %s/%s: %s; last status: %v", gvr.Resource, ns, name, what, statusOf(last))
	return nil
}

func statusOf(obj *unstructured.Unstructured) any {
	if obj == nil {
		return nil
	}
	return obj.Object["status"]
}

func TestLifecycle(t *testing.T) {
	installAppCRD(t)
	startOperator(t, loadGraph(t), nil)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "lifecycle"
	createNamespace(t, ns)

	// Create: every object appears, the app becomes Ready with its url.
	_, err := d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, "web", map[string]any{"image": "nginx:1.27", "host": "web.example.com"}), metav1.CreateOptions{})
	require.NoError(t, err)
	app := waitPhase(t, d, ns, "web", "Ready")
	url, _, _ := unstructured.NestedString(app.Object, "status", "url")
	assert.Equal(t, "http://web.example.com", url)
	for _, gvr := range []schema.GroupVersionResource{deployGVR, svcGVR, ingressGVR} {
		obj, err := d.Resource(gvr).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err, gvr.Resource)
		refs := obj.GetOwnerReferences()
		require.Len(t, refs, 1)
		assert.Equal(t, app.GetUID(), refs[0].UID)
		assert.True(t, *refs[0].Controller)
	}

	// Update the image: the Deployment follows.
	patch := []byte(`{"spec":{"image":"nginx:1.28"}}`)
	_, err = d.Resource(appGVR).Namespace(ns).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return deploymentImage(t, d, ns, "web") == "nginx:1.28" }, 30*time.Second, 100*time.Millisecond)
	waitPhase(t, d, ns, "web", "Ready")

	// Someone edits a field loom owns (an Update, like kubectl edit) and adds a label:
	// the image is put back, the label stays.
	editImageAndLabel(t, d, ns, "web", "nginx:1.28")

	// Another server-side applier takes a field loom sets: loom reports it in the status
	// and leaves the field alone; once the other applier lets go, loom takes it back.
	scaler := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec":     map[string]any{"replicas": int64(3)},
	}}
	_, err = d.Resource(deployGVR).Namespace(ns).Apply(ctx, "web", scaler, metav1.ApplyOptions{FieldManager: "team-scaler", Force: true})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Error")
	dep, err := d.Resource(deployGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	replicas, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas")
	assert.Equal(t, int64(3), replicas, "loom does not fight another applier")
	delete(scaler.Object, "spec")
	_, err = d.Resource(deployGVR).Namespace(ns).Apply(ctx, "web", scaler, metav1.ApplyOptions{FieldManager: "team-scaler", Force: true})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Ready")
	// Reaching Error and leaving it are Events; converging at creation was none.
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	requireEvent(t, cs, ns, "web", "PhaseError", " → Error")
	requireEvent(t, cs, ns, "web", "", "Error → ")
	events, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=App,involvedObject.name=web"})
	require.NoError(t, err)
	var phases []string
	for _, e := range events.Items {
		if strings.HasPrefix(e.Reason, "Phase") {
			phases = append(phases, e.Reason+": "+e.Message)
		}
	}
	assert.Len(t, phases, 2, "Events for reaching Error and for leaving it, none for converging at creation: %v", phases)
	dep, err = d.Resource(deployGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	replicas, _, _ = unstructured.NestedInt64(dep.Object, "spec", "replicas")
	assert.Equal(t, int64(1), replicas)

	// Drop the host: the Ingress node is skipped, and its object pruned.
	_, err = d.Resource(appGVR).Namespace(ns).Patch(ctx, "web", types.JSONPatchType, []byte(`[{"op":"remove","path":"/spec/host"}]`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := d.Resource(ingressGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 100*time.Millisecond, "the ingress was not pruned")
	// The status follows the prune (the same reconcile writes it just after).
	waitFor(t, d, appGVR, ns, "web", 30*time.Second, func(obj *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		_, hasURL, _ := unstructured.NestedString(obj.Object, "status", "url")
		return phase == "Ready" && !hasURL
	}, "not Ready without a url once the ingress is gone")

	// Delete the app: the garbage collector removes its objects.
	require.NoError(t, d.Resource(appGVR).Namespace(ns).Delete(ctx, "web", metav1.DeleteOptions{}))
	for _, gvr := range []schema.GroupVersionResource{deployGVR, svcGVR, cmGVR} {
		name := "web"
		if gvr == cmGVR {
			name = "web-settings"
		}
		require.Eventually(t, func() bool {
			_, err := d.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 60*time.Second, 200*time.Millisecond, "%s %s was not garbage-collected", gvr.Resource, name)
	}
}

// editImageAndLabel changes the image of a Deployment and adds a label in one update by
// another field manager, as kubectl edit does, then checks that loom puts the image (want)
// back and leaves the label.
func editImageAndLabel(t *testing.T, d dynamic.Interface, ns, name, want string) {
	t.Helper()
	ctx := context.Background()
	// The Deployment's status moves on while the rollout settles: read and update again on
	// a conflict, as kubectl edit asks a person to.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := d.Resource(deployGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
		containers[0].(map[string]any)["image"] = "ghcr.io/example/evil:1"
		if err := unstructured.SetNestedSlice(dep.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			return err
		}
		labels := dep.GetLabels()
		labels["cost-center"] = "42"
		dep.SetLabels(labels)
		_, err = d.Resource(deployGVR).Namespace(ns).Update(ctx, dep, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		return err
	}))
	require.Eventually(t, func() bool { return deploymentImage(t, d, ns, name) == want }, 30*time.Second, 100*time.Millisecond, "the edited image was not reverted")
	dep, err := d.Resource(deployGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "42", dep.GetLabels()["cost-center"], "a label another actor added stays")
}

func deploymentImage(t *testing.T, d dynamic.Interface, ns, name string) string {
	dep, err := d.Resource(deployGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) == 0 {
		return ""
	}
	img, _ := containers[0].(map[string]any)["image"].(string)
	return img
}

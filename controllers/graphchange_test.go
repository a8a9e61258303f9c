package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	schema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/loom-mcp/loom/engine/applied"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Two more resources for the test graph: a ConfigMap "notes" and a ConfigMap "extra".
const extraNodes = `  - id: notes
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-notes"}
      data: {text: hello}
  - id: extra
    template:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: "${schema.metadata.name}-extra"}
      data: {text: hello}
  - id: service
`

// TestGraphChanges upgrades the graph under running instances: objects of nodes that left
// the graph (removed, renamed, of another kind now) are pruned, a renamed node keeps its
// object, and a change the API server refuses as immutable is an error naming the field,
// or recreates the object where the graph says recreate: true.
func TestGraphChanges(t *testing.T) {
	installAppCRD(t)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "graph-changes"
	createNamespace(t, ns)

	// v1: settings, deployment, notes (ConfigMap), extra, service, ingress.
	stop := runOperator(t, loadGraphEdited(t, "  - id: service\n", extraNodes), nil)
	_, err := d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, "web", map[string]any{"image": "nginx:1.27"}), metav1.CreateOptions{})
	require.NoError(t, err)
	waitPhase(t, d, ns, "web", "Ready")
	settings := get(t, d, cmGVR, ns, "web-settings")
	get(t, d, cmGVR, ns, "web-notes")
	get(t, d, cmGVR, ns, "web-extra")
	stop()

	// v2: settings renamed appConfig (same object name), notes a Secret, extra removed.
	notesAsSecret := strings.Replace(extraNodes, "kind: ConfigMap\n      metadata: {name: \"${schema.metadata.name}-notes\"}\n      data: {text: hello}",
		"kind: Secret\n      metadata: {name: \"${schema.metadata.name}-notes\"}\n      data: {text: aGVsbG8=}", 1)
	notesAsSecret = notesAsSecret[:strings.Index(notesAsSecret, "  - id: extra")] + "  - id: service\n"
	stop = runOperator(t, loadGraphEdited(t, "  - id: service\n", notesAsSecret,
		"id: settings", "id: appConfig", "ready.settings", "ready.appConfig", "settings.metadata.name", "appConfig.metadata.name"), nil)
	gone(t, d, cmGVR, ns, "web-extra", "the object of a removed node")
	gone(t, d, cmGVR, ns, "web-notes", "the ConfigMap of a node that is a Secret now")
	waitFor(t, d, secretGVR, ns, "web-notes", 30*time.Second, func(*unstructured.Unstructured) bool { return true }, "the Secret was never created")
	config := waitFor(t, d, cmGVR, ns, "web-settings", 30*time.Second, func(o *unstructured.Unstructured) bool {
		return o.GetLabels()[applied.LabelNode] == "appConfig"
	}, "the renamed node never took over its object")
	assert.Equal(t, settings.GetUID(), config.GetUID(), "a renamed node keeps its object")
	waitPhase(t, d, ns, "web", "Ready")
	assertOneObjectPerNode(t, d, ns)
	stop()

	// v3: the Deployment's selector changes, which the API server refuses in place; the
	// graph does not allow recreating it: Error naming the field, the Deployment untouched.
	dep := get(t, d, deployGVR, ns, "web")
	newLabels := `'${ {"app": schema.metadata.name, "tier": "web"} }'`
	stop = runOperator(t, loadGraphEdited(t, `'${ {"app": schema.metadata.name} }'`, newLabels), nil)
	app := waitPhase(t, d, ns, "web", "Error")
	assert.Contains(t, readyMessage(app), "spec.selector")
	assert.Contains(t, readyMessage(app), "recreate: true")
	assert.Equal(t, dep.GetUID(), get(t, d, deployGVR, ns, "web").GetUID())
	stop()

	// v4: the same with recreate: true on the Deployment: it is deleted and created again.
	runOperator(t, loadGraphEdited(t, `'${ {"app": schema.metadata.name} }'`, newLabels,
		"  - id: deployment\n", "  - id: deployment\n    recreate: true\n"), nil)
	waitFor(t, d, deployGVR, ns, "web", 60*time.Second, func(o *unstructured.Unstructured) bool {
		return o.GetUID() != dep.GetUID() && o.GetDeletionTimestamp() == nil
	}, "the Deployment was not recreated")
	waitPhase(t, d, ns, "web", "Ready")
	sel, _, _ := unstructured.NestedStringMap(get(t, d, deployGVR, ns, "web").Object, "spec", "selector", "matchLabels")
	assert.Equal(t, map[string]string{"app": "web", "tier": "web"}, sel)
	assertOneObjectPerNode(t, d, ns)
}

func get(t *testing.T, d dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := d.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err, "%s %s/%s", gvr.Resource, ns, name)
	return obj
}

func gone(t *testing.T, d dynamic.Interface, gvr schema.GroupVersionResource, ns, name, what string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := d.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 100*time.Millisecond, "%s (%s %s) was not pruned", what, gvr.Resource, name)
}

// readyMessage is the message of an App's Ready condition, where the test graph puts the
// first error.
func readyMessage(app *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	return ""
}

// childGVRs are the kinds the test graphs render.
var childGVRs = []schema.GroupVersionResource{deployGVR, svcGVR, ingressGVR, cmGVR, saGVR, secretGVR}

// assertOneObjectPerNode checks that every object of ns labelled with an instance is
// controlled by that instance, and that no (instance, node) has two objects.
func assertOneObjectPerNode(t *testing.T, d dynamic.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	uids := map[string]string{}
	for _, gvr := range []schema.GroupVersionResource{appGVR, mcpGVR} {
		list, err := d.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue // the CRD is not installed
		}
		for _, o := range list.Items {
			uids[o.GetName()] = string(o.GetUID())
		}
	}
	seen := map[string]string{}
	for _, gvr := range childGVRs {
		list, err := d.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: applied.LabelInstance})
		require.NoError(t, err)
		for _, o := range list.Items {
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			inst := o.GetLabels()[applied.LabelInstance]
			key := inst + "/" + o.GetLabels()[applied.LabelNode]
			require.NotContains(t, seen, key, "two objects for %s: %s and %s %s", key, seen[key], gvr.Resource, o.GetName())
			seen[key] = gvr.Resource + " " + o.GetName()
			uid, ok := uids[inst]
			require.True(t, ok, "%s %s belongs to no instance (orphaned)", gvr.Resource, o.GetName())
			ctl := metav1.GetControllerOf(&o)
			require.NotNil(t, ctl, "%s %s has no controller", gvr.Resource, o.GetName())
			assert.Equal(t, uid, string(ctl.UID), "%s %s", gvr.Resource, o.GetName())
		}
	}
}

package controllers_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/input"
)

var bundleGVR = schema.GroupVersionResource{Group: "example.loom.dev", Version: "v1", Resource: "bundles"}

// collectionsGraph is the collections example (examples/collections), typed by its CRD.
func collectionsGraph(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := input.Graph("graph.yaml", "../examples/collections/graph.yaml", "../examples/collections/crd.yaml")
	require.NoError(t, err)
	return g
}

// TestCollectionItemsPruned: a Bundle of three files gets a ConfigMap per file and an index
// of them; with the third file gone, its ConfigMap is pruned, the others stay (the same
// objects), the index follows, and the Bundle is Ready again.
func TestCollectionItemsPruned(t *testing.T) {
	ns := "collections"
	g := bundleNamespace(t, ns)
	startOperator(t, g, nil)
	d := adminDynamic(t)
	readme := map[string]any{"name": "readme", "content": "# Site"}
	robots := map[string]any{"name": "robots", "content": "User-agent: *"}
	createBundle(t, d, ns, readme, robots, map[string]any{"name": "extra"})
	waitBundle(t, d, ns, "site-readme,site-robots,site-extra", 3)
	uids := map[string]string{}
	for _, name := range []string{"site-readme", "site-robots", "site-extra"} {
		cm := get(t, d, cmGVR, ns, name)
		assert.Equal(t, "files", cm.GetLabels()[applied.LabelNode], name)
		uids[name] = string(cm.GetUID())
	}
	assert.Equal(t, "User-agent: *", get(t, d, cmGVR, ns, "site-robots").Object["data"].(map[string]any)["content"])

	setFiles(t, d, ns, readme, robots)
	gone(t, d, cmGVR, ns, "site-extra", "the ConfigMap of the file removed")
	waitBundle(t, d, ns, "site-readme,site-robots", 2)
	for _, name := range []string{"site-readme", "site-robots"} {
		assert.Equal(t, uids[name], string(get(t, d, cmGVR, ns, name).GetUID()), "%s is kept, not made again", name)
	}
}

// TestCollectionDiff: loom diff reports each object of a collection like any other: the
// item whose content changed, the item added, the object of the item removed, and the
// index that lists them (rendered from the dry runs, as the reconciler renders it from its
// applies in the same pass).
func TestCollectionDiff(t *testing.T) {
	ns := "collections-diff"
	g := bundleNamespace(t, ns)
	stop := runOperator(t, g, nil)
	d := adminDynamic(t)
	createBundle(t, d, ns, map[string]any{"name": "readme", "content": "v1"}, map[string]any{"name": "extra"})
	waitBundle(t, d, ns, "site-readme,site-extra", 2)
	stop()
	setFiles(t, d, ns, map[string]any{"name": "readme", "content": "v2"}, map[string]any{"name": "added"})

	report, err := controllers.Diff(context.Background(), cp.OperatorConfig(), g, controllers.DiffOptions{Namespace: ns})
	require.NoError(t, err)
	require.Len(t, report.Instances, 1)
	site := report.Instances[0]
	require.NoError(t, site.Err)
	object := func(node string, action controllers.Action, name string, fields ...controllers.FieldChange) controllers.ObjectDiff {
		return controllers.ObjectDiff{Node: node, Action: action, Kind: "ConfigMap", Namespace: ns, Name: name, Fields: fields}
	}
	assert.ElementsMatch(t, []controllers.ObjectDiff{
		object("files", controllers.Configured, "site-readme", controllers.FieldChange{Path: ".data.content", Old: "v1", New: "v2", HasOld: true, HasNew: true}),
		object("files", controllers.Created, "site-added"),
		object("files", controllers.Pruned, "site-extra"),
		object("index", controllers.Configured, "site-index", controllers.FieldChange{Path: ".data.files", Old: "site-readme,site-extra", New: "site-readme,site-added", HasOld: true, HasNew: true}),
	}, site.Objects, "the index renders from the dry run's objects, as the reconciler's from its applies")
}

// bundleNamespace installs the Bundle CRD, grants the operator what the test graphs need,
// creates the namespace ns, and returns the collections graph.
func bundleNamespace(t *testing.T, ns string) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile("../examples/collections/crd.yaml")
	require.NoError(t, err)
	installCRD(t, data)
	leastPrivilege(t)
	createNamespace(t, ns)
	return collectionsGraph(t)
}

// createBundle creates the Bundle site in ns with the given files.
func createBundle(t *testing.T, d dynamic.Interface, ns string, files ...any) {
	t.Helper()
	bundle := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "Bundle",
		"metadata": map[string]any{"name": "site", "namespace": ns},
		"spec":     map[string]any{"files": files},
	}}
	_, err := d.Resource(bundleGVR).Namespace(ns).Create(context.Background(), bundle, metav1.CreateOptions{})
	require.NoError(t, err)
}

// setFiles replaces the files of the Bundle site in ns.
func setFiles(t *testing.T, d dynamic.Interface, ns string, files ...any) {
	t.Helper()
	ctx := context.Background()
	live, err := d.Resource(bundleGVR).Namespace(ns).Get(ctx, "site", metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedSlice(live.Object, files, "spec", "files"))
	_, err = d.Resource(bundleGVR).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// waitBundle waits until the Bundle site is Ready with n files and its index lists files.
func waitBundle(t *testing.T, d dynamic.Interface, ns, files string, n int64) {
	t.Helper()
	waitFor(t, d, bundleGVR, ns, "site", 60*time.Second, func(obj *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		count, _, _ := unstructured.NestedInt64(obj.Object, "status", "files")
		return phase == "Ready" && count == n
	}, "never Ready with the files")
	index := get(t, d, cmGVR, ns, "site-index")
	assert.Equal(t, files, index.Object["data"].(map[string]any)["files"])
}

package controllers_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/engine/graph"
	engineschema "github.com/loom-mcp/loom/engine/schema"
)

// TestDiffActions: a graph that adds two nodes, changes one, removes one, and renders one
// object over a ConfigMap that is not loom's. Diff reports, per instance, what the
// reconciler would do: creates, the changed field, the refused object and, because an
// apply would fail, no prune for that instance and its status going to Error; the other
// instance, which holds no such ConfigMap, gets its removed node's object pruned and keeps
// its status. Nothing is written. Then a change of an immutable field: refused, or replaced
// where the resource allows recreate; a field another applier holds: refused; and an object
// the instance controls that loom never applied: adopted.
func TestDiffActions(t *testing.T) {
	installAppCRD(t)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "diff-actions"
	createNamespace(t, ns)

	// v1: settings, deployment, notes, extra, service, ingress.
	stop := runOperator(t, loadGraphEdited(t, "  - id: service\n", extraNodes), nil)
	for name, spec := range map[string]map[string]any{
		"web": {"image": "nginx:1.27", "host": "web.example.com"},
		"api": {"image": "nginx:1.27"},
	} {
		_, err := d.Resource(appGVR).Namespace(ns).Create(ctx, newApp(ns, name, spec), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	waitPhase(t, d, ns, "web", "Ready")
	waitPhase(t, d, ns, "api", "Ready")
	stop()
	taken := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "web-taken", "namespace": ns}, "data": map[string]any{"owner": "someone else"}}}
	_, err := d.Resource(cmGVR).Namespace(ns).Create(ctx, taken, metav1.CreateOptions{})
	require.NoError(t, err)

	// v2: notes removed, extra's text changed, two new ConfigMaps: more and taken.
	v2 := strings.Replace(extraNodes[strings.Index(extraNodes, "  - id: extra"):], "data: {text: hello}", "data: {text: bye}", 1)
	for _, id := range []string{"more", "taken"} {
		v2 = strings.Replace(v2, "  - id: service\n", "  - id: "+id+"\n    template:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: \"${schema.metadata.name}-"+id+"\"}\n      data: {text: new}\n  - id: service\n", 1)
	}
	g := loadGraphEdited(t, "  - id: service\n", v2)
	begin := time.Now()
	report, err := controllers.Diff(ctx, cp.OperatorConfig(), g, controllers.DiffOptions{Namespace: ns})
	require.NoError(t, err)
	require.Len(t, report.Instances, 2)
	api, web := report.Instances[0], report.Instances[1]
	require.Equal(t, "api", api.Name)
	require.NoError(t, api.Err)
	require.NoError(t, web.Err)

	extraChange := func(name string) controllers.ObjectDiff {
		return controllers.ObjectDiff{Node: "extra", Action: controllers.Configured, Kind: "ConfigMap", Namespace: ns, Name: name + "-extra",
			Fields: []controllers.FieldChange{{Path: ".data.text", Old: "hello", New: "bye", HasOld: true, HasNew: true}}}
	}
	object := func(node string, action controllers.Action, kind, name string) controllers.ObjectDiff {
		return controllers.ObjectDiff{Node: node, Action: action, Kind: kind, Namespace: ns, Name: name}
	}
	assert.ElementsMatch(t, []controllers.ObjectDiff{
		extraChange("api"),
		object("more", controllers.Created, "ConfigMap", "api-more"),
		object("taken", controllers.Created, "ConfigMap", "api-taken"),
		object("notes", controllers.Pruned, "ConfigMap", "api-notes"),
	}, api.Objects)
	assert.Empty(t, api.Status, "api's status")
	assert.True(t, api.Changed())

	webObjects := append([]controllers.ObjectDiff{}, web.Objects...)
	for i, o := range webObjects {
		if o.Action == controllers.Refused {
			assert.Contains(t, o.Error, "ConfigMap web-taken exists and is not loom's", "the refusal says why")
			webObjects[i].Error = ""
		}
	}
	assert.ElementsMatch(t, []controllers.ObjectDiff{
		extraChange("web"),
		object("more", controllers.Created, "ConfigMap", "web-more"),
		object("taken", controllers.Refused, "ConfigMap", "web-taken"),
	}, webObjects, "web: no prune, since an apply would fail")
	phase := false
	for _, f := range web.Status {
		if f.Path == ".status.phase" {
			phase = true
			assert.Equal(t, "Ready", f.Old)
			assert.Equal(t, "Error", f.New)
		}
	}
	assert.True(t, phase, "web's status would go to Error: %+v", web.Status)

	c := report.Counts()
	assert.Equal(t, 2, c.Changed)
	assert.Equal(t, map[controllers.Action]int{controllers.Configured: 2, controllers.Created: 3, controllers.Pruned: 1, controllers.Refused: 1}, c.Objects)

	// Nothing was written: no write but dry runs in the audit log, no object created or
	// deleted.
	reqs, err := cp.Audit.Requests(begin)
	require.NoError(t, err)
	dryRuns := 0
	for _, r := range reqs {
		switch r.Verb {
		case "get", "list":
		default:
			assert.True(t, r.DryRun, "the diff sent %s %s/%s", r.Key(), r.Namespace, r.Name)
			dryRuns++
		}
	}
	assert.Equal(t, 5, dryRuns, "a dry-run apply for each object that would change or be created (web-taken is refused before its apply)")
	for _, name := range []string{"api-more", "web-more", "api-taken"} {
		_, err := d.Resource(cmGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%s exists after the diff: %v", name, err)
	}
	get(t, d, cmGVR, ns, "api-notes")

	// An immutable field (the Deployment's selector): refused, or, where the resource says
	// recreate: true, replaced, and then not pruned as well.
	newLabels := `'${ {"app": schema.metadata.name, "tier": "web"} }'`
	v1Labels := []string{"  - id: service\n", extraNodes, `'${ {"app": schema.metadata.name} }'`, newLabels}
	for _, c := range []struct {
		edits  []string
		action controllers.Action
		says   string
	}{
		{v1Labels, controllers.Refused, "recreate: true"},
		{append(v1Labels, "  - id: deployment\n", "  - id: deployment\n    recreate: true\n"), controllers.Replaced, "loom would delete the object and create it again"},
	} {
		report, err := controllers.Diff(ctx, cp.OperatorConfig(), loadGraphEdited(t, c.edits...), controllers.DiffOptions{Namespace: ns, Name: "api"})
		require.NoError(t, err)
		require.Len(t, report.Instances, 1)
		var deployment []controllers.ObjectDiff
		for _, o := range report.Instances[0].Objects {
			if o.Kind == "Deployment" {
				deployment = append(deployment, o)
			}
		}
		require.Len(t, deployment, 1, "%+v", report.Instances[0].Objects)
		assert.Equal(t, c.action, deployment[0].Action)
		assert.Contains(t, deployment[0].Error, "spec.selector")
		assert.Contains(t, deployment[0].Error, c.says)
	}

	// A field another server-side applier holds: refused, as the operator refuses to fight it.
	held := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "api-extra", "namespace": ns}, "data": map[string]any{"text": "hello"}}}
	_, err = d.Resource(cmGVR).Namespace(ns).Apply(ctx, "api-extra", held, metav1.ApplyOptions{FieldManager: "someone"})
	require.NoError(t, err)
	report, err = controllers.Diff(ctx, cp.OperatorConfig(), g, controllers.DiffOptions{Namespace: ns, Name: "api"})
	require.NoError(t, err)
	var extra *controllers.ObjectDiff
	for i, o := range report.Instances[0].Objects {
		if o.Node == "extra" {
			extra = &report.Instances[0].Objects[i]
		}
	}
	require.NotNil(t, extra, "%+v", report.Instances[0].Objects)
	assert.Equal(t, controllers.Refused, extra.Action)
	assert.Contains(t, extra.Error, "held by someone")

	// An object the instance controls that loom never applied (as MCP Runtime leaves them):
	// adopted, its changes listed.
	app := get(t, d, appGVR, ns, "api")
	yes := true
	left := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "api-left", "namespace": ns, "ownerReferences": []any{map[string]any{
			"apiVersion": "example.loom.dev/v1", "kind": "App", "name": "api", "uid": string(app.GetUID()), "controller": yes}}},
		"data": map[string]any{"text": "old"}}}
	_, err = d.Resource(cmGVR).Namespace(ns).Create(ctx, left, metav1.CreateOptions{})
	require.NoError(t, err)
	leftNode := "  - id: left\n    template:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: \"${schema.metadata.name}-left\"}\n      data: {text: new}\n"
	adopt := loadGraphEdited(t, "  - id: service\n", strings.TrimSuffix(extraNodes, "  - id: service\n")+leftNode+"  - id: service\n")
	report, err = controllers.Diff(ctx, cp.OperatorConfig(), adopt, controllers.DiffOptions{Namespace: ns, Name: "api"})
	require.NoError(t, err)
	require.Len(t, report.Instances[0].Objects, 1, "%+v", report.Instances[0].Objects)
	o := report.Instances[0].Objects[0]
	assert.Equal(t, controllers.Adopted, o.Action)
	var paths []string
	for _, f := range o.Fields {
		paths = append(paths, f.Path)
	}
	assert.Contains(t, paths, ".data.text")
	assert.Contains(t, paths, ".metadata.labels")

	// A node of a kind the API server does not serve (its CRD not installed): refused,
	// naming the CRD, and nothing else of the instance is applied; the diff goes on.
	report, err = controllers.Diff(ctx, cp.OperatorConfig(), loadGraphWithWidget(t), controllers.DiffOptions{Namespace: ns, Name: "api"})
	require.NoError(t, err)
	require.NoError(t, report.Instances[0].Err)
	require.Len(t, report.Instances[0].Objects, 1, "%+v", report.Instances[0].Objects)
	assert.Equal(t, controllers.ObjectDiff{Node: "widget", Action: controllers.Refused, Kind: "Widget", Namespace: ns, Name: "api-widget",
		Error: "resource widget: kind Widget (example.loom.dev/v1) is not served by the API server; install its CRD (widgets.example.loom.dev)"},
		report.Instances[0].Objects[0])
}

// widgetCRD types a kind no test installs.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.loom.dev}
spec:
  group: example.loom.dev
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`

// loadGraphWithWidget is the test graph with the extra nodes and a Widget, typed by the App
// and Widget CRDs.
func loadGraphWithWidget(t *testing.T) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile("testdata/graph.yaml")
	require.NoError(t, err)
	widget := "  - id: widget\n    template:\n      apiVersion: example.loom.dev/v1\n      kind: Widget\n      metadata: {name: \"${schema.metadata.name}-widget\"}\n      spec: {size: 3}\n"
	src := strings.Replace(string(data), "  - id: service\n", extraNodes[:len(extraNodes)-len("  - id: service\n")]+widget+"  - id: service\n", 1)
	s, err := engineschema.Builtin()
	require.NoError(t, err)
	app, err := os.ReadFile("../testdata/engine/crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(app, "crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD([]byte(widgetCRD), "widget.yaml")
	require.NoError(t, err)
	g, err := graph.Load("graph.yaml", []byte(src), graph.WithSchemas(s))
	require.NoError(t, err)
	return g
}

package controllers

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	engineschema "github.com/loom-mcp/loom/engine/schema"
)

var (
	gizmoGVK     = schema.GroupVersionKind{Group: "optional.loom.dev", Version: "v1", Kind: "Gizmo"}
	configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// LoadOptionalGraph loads testdata/optional-kinds.yaml, typed by the App and Gizmo CRDs:
// ConfigMaps, a Gizmo node and a Gizmo read. Exported (in test builds only) for the
// package's external tests.
func LoadOptionalGraph(t *testing.T) *graph.Graph {
	t.Helper()
	s, err := engineschema.Builtin()
	require.NoError(t, err)
	for _, f := range []string{"../testdata/engine/crd.yaml", "testdata/gizmo-crd.yaml"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = s.AddCRD(data, f)
		require.NoError(t, err)
	}
	data, err := os.ReadFile("testdata/optional-kinds.yaml")
	require.NoError(t, err)
	g, err := graph.Load("optional-kinds.yaml", data, graph.WithSchemas(s))
	require.NoError(t, err)
	return g
}

// serving is discovery that serves the given kinds, namespaced.
func serving(gvks ...schema.GroupVersionKind) *meta.DefaultRESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, gvk := range gvks {
		m.Add(gvk, meta.RESTScopeNamespace)
	}
	return m
}

// failingMapper is discovery that fails its first `fails` answers (all when negative),
// as an API server that is unreachable or throttles.
type failingMapper struct {
	meta.RESTMapper
	fails int
}

func (m *failingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if m.fails != 0 {
		m.fails--
		return nil, errors.New("connection refused")
	}
	return m.RESTMapper.RESTMapping(gk, versions...)
}

func TestKindMapper(t *testing.T) {
	g := LoadOptionalGraph(t)
	m := newKindMapper(g, serving(configMapGVK))

	got, err := m.RESTMapping(configMapGVK.GroupKind(), "v1")
	require.NoError(t, err)
	assert.Equal(t, "configmaps", got.Resource.Resource, "served kinds map through discovery")
	got, err = m.RESTMapping(gizmoGVK.GroupKind(), "v1")
	require.NoError(t, err, "an unserved kind of the graph has the graph's mapping, for the cache's options")
	assert.Equal(t, meta.RESTScopeNameNamespace, got.Scope.Name())
	_, err = m.RESTMapping(gizmoGVK.GroupKind(), "v2")
	assert.True(t, meta.IsNoMatchError(err), "only the graph's version: %v", err)
	_, err = m.RESTMapping(schema.GroupKind{Group: "other.dev", Kind: "Thing"})
	assert.True(t, meta.IsNoMatchError(err), "kinds outside the graph stay unknown: %v", err)
	_, err = discoveryOf(m).RESTMapping(gizmoGVK.GroupKind(), "v1")
	assert.True(t, meta.IsNoMatchError(err), "the reconciler asks discovery without the fallback: %v", err)

	failing := newKindMapper(g, &failingMapper{RESTMapper: serving(configMapGVK), fails: -1})
	got, err = failing.RESTMapping(gizmoGVK.GroupKind(), "v1")
	require.NoError(t, err, "discovery failing for a moment does not stop the manager's creation")
	assert.Equal(t, "gizmos", got.Resource.Resource)
	_, err = failing.RESTMapping(schema.GroupKind{Group: "other.dev", Kind: "Thing"})
	assert.EqualError(t, err, "connection refused", "kinds outside the graph get discovery's error")
}

func TestGraphKinds(t *testing.T) {
	var gvks []schema.GroupVersionKind
	for _, k := range graphKinds(LoadOptionalGraph(t)) {
		gvks = append(gvks, k.GVK)
	}
	assert.Equal(t, []schema.GroupVersionKind{configMapGVK, gizmoGVK}, gvks, "rendered and read kinds, once each, not the instance's")
}

func TestUnservedError(t *testing.T) {
	g := LoadOptionalGraph(t)
	n, _ := g.Node("gizmo")
	assert.Equal(t, "resource gizmo: kind Gizmo (optional.loom.dev/v1) is not served by the API server; install its CRD (gizmos.optional.loom.dev)",
		(&unservedError{id: "gizmo", kind: n.Kind}).Error())
	settings, _ := g.Node("settings")
	assert.Equal(t, "resource settings: kind ConfigMap (v1) is not served by the API server; this cluster's Kubernetes does not offer that API version",
		(&unservedError{id: "settings", kind: settings.Kind}).Error())
	assert.True(t, terminal(&unservedError{id: "gizmo", kind: n.Kind}), "a retry cannot make a kind appear; kindWatch enqueues the instance")
}

func TestKindWatchDiscover(t *testing.T) {
	g := LoadOptionalGraph(t)
	saved := discoverBackoff
	t.Cleanup(func() { discoverBackoff = saved })
	discoverBackoff.Duration = time.Millisecond
	served := newKindWatch(g, serving(configMapGVK), nil, 0, logr.Discard()).discover()
	assert.Equal(t, []schema.GroupVersionKind{configMapGVK}, served)

	served = newKindWatch(g, &failingMapper{RESTMapper: serving(configMapGVK), fails: 3}, nil, 0, logr.Discard()).discover()
	assert.Equal(t, []schema.GroupVersionKind{configMapGVK}, served, "a failure for a moment is retried")

	// An API server that does not answer delays the kind: it is not watched yet, and is
	// asked about again with the missing ones.
	k := newKindWatch(g, &failingMapper{RESTMapper: serving(configMapGVK), fails: -1}, nil, 0, logr.Discard())
	assert.Empty(t, k.discover())
	assert.Contains(t, k.missing(), configMapGVK)
}

// TestKindWatchNeedAndAppear: an instance whose render includes a node or a read of an
// unserved kind gets an error for each and waits; a skipped one costs nothing; when the
// kind appears, it is watched, then the waiting instances are woken.
func TestKindWatchNeedAndAppear(t *testing.T) {
	g := LoadOptionalGraph(t)
	disc := serving(configMapGVK)
	gvs := &groupVersions{docs: map[string]*metav1.APIResourceList{}, asked: map[string]int{}}
	k := newKindWatch(g, disc, gvs, 0, logr.Discard())
	k.markWatched(configMapGVK)
	var watched []schema.GroupVersionKind
	k.watch = func(_ context.Context, gvk schema.GroupVersionKind) error {
		watched = append(watched, gvk)
		return nil
	}
	maker := types.NamespacedName{Namespace: "team", Name: "maker"}
	reader := types.NamespacedName{Namespace: "team", Name: "reader"}
	plain := types.NamespacedName{Namespace: "team", Name: "plain"}

	ctx := context.Background()
	errs := k.need(ctx, g, maker, &render.Result{
		Nodes: []render.Node{{ID: "settings", State: render.Rendered}, {ID: "gizmo", State: render.Rendered}, {ID: "copy", State: render.Skipped}},
		Reads: map[string]render.State{"blueprint": render.Skipped},
	})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "resource gizmo: kind Gizmo")
	assert.Equal(t, map[string]int{"optional.loom.dev/v1": 1}, gvs.asked, "the first instance to need the kind asks about it")
	errs = k.need(ctx, g, reader, &render.Result{
		Nodes: []render.Node{{ID: "settings", State: render.Rendered}, {ID: "gizmo", State: render.Skipped}, {ID: "copy", State: render.Waiting}},
		Reads: map[string]render.State{"blueprint": render.Waiting},
	})
	require.Len(t, errs, 1, "a read of an unserved kind is needed; a node waiting on it is of a served kind")
	assert.Contains(t, errs[0].Error(), "resource blueprint: kind Gizmo")
	assert.Empty(t, k.need(ctx, g, plain, &render.Result{
		Nodes: []render.Node{{ID: "settings", State: render.Rendered}, {ID: "gizmo", State: render.Skipped}, {ID: "copy", State: render.Skipped}},
		Reads: map[string]render.State{"blueprint": render.Skipped},
	}), "an instance that skips the kind is unaffected")
	assert.Equal(t, map[string]int{"optional.loom.dev/v1": 1}, gvs.asked, "asked once a period, however many instances need it")
	k.forget(reader) // deleted meanwhile: not woken

	require.NoError(t, k.appear(ctx, gizmoGVK))
	assert.Empty(t, watched, "not served yet: nothing watched")
	assert.Equal(t, []schema.GroupVersionKind{gizmoGVK}, k.missing())

	disc.Add(gizmoGVK, meta.RESTScopeNamespace)
	woken := make(chan types.NamespacedName, 2)
	go func() {
		for e := range k.wake {
			woken <- types.NamespacedName{Namespace: e.Object.GetNamespace(), Name: e.Object.GetName()}
		}
	}()
	require.NoError(t, k.appear(ctx, gizmoGVK))
	close(k.wake)
	assert.Equal(t, []schema.GroupVersionKind{gizmoGVK}, watched)
	assert.Equal(t, maker, <-woken)
	assert.Empty(t, k.missing())
	assert.True(t, k.watched(gizmoGVK))
	assert.Empty(t, k.need(ctx, g, maker, &render.Result{Nodes: []render.Node{{ID: "gizmo", State: render.Rendered}}}), "served now")
}

// groupVersions is discovery's documents by group version, counting the requests.
type groupVersions struct {
	docs  map[string]*metav1.APIResourceList
	asked map[string]int
}

func (g *groupVersions) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	g.asked[gv]++
	if doc, ok := g.docs[gv]; ok {
		return doc, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{}, gv)
}

// TestKindWatchPoll: one question per group version with missing kinds that an instance
// waits for, and period; none while no instance waits; a group version that is served
// without the kind, or only as a subresource, is not enough.
func TestKindWatchPoll(t *testing.T) {
	g := LoadOptionalGraph(t)
	disc := serving(configMapGVK)
	gvs := &groupVersions{docs: map[string]*metav1.APIResourceList{}, asked: map[string]int{}}
	k := newKindWatch(g, disc, gvs, time.Nanosecond, logr.Discard())
	k.markWatched(configMapGVK)
	var watched []schema.GroupVersionKind
	k.watch = func(_ context.Context, gvk schema.GroupVersionKind) error {
		watched = append(watched, gvk)
		return nil
	}
	go func() {
		for range k.wake { // the instances woken when the kind appears
		}
	}()
	t.Cleanup(func() { close(k.wake) })
	ctx := context.Background()
	k.poll(ctx)
	assert.Empty(t, gvs.asked, "no instance waits for the missing kind: nothing asked")
	gizmo := &render.Result{Nodes: []render.Node{{ID: "gizmo", State: render.Rendered}}}
	inst := types.NamespacedName{Namespace: "team", Name: "maker"}
	require.Len(t, k.need(ctx, g, inst, gizmo), 1)
	require.Len(t, k.need(ctx, g, inst, &render.Result{Nodes: []render.Node{{ID: "gizmo", State: render.Skipped}}}), 0)
	k.poll(ctx)
	assert.Equal(t, map[string]int{"optional.loom.dev/v1": 1}, gvs.asked, "asked by the first need; the instance that no longer needs the kind stopped the polls")
	require.Len(t, k.need(ctx, g, inst, gizmo), 1)
	k.poll(ctx)
	assert.Equal(t, map[string]int{"optional.loom.dev/v1": 3}, gvs.asked, "one GET for the missing group version by need and one by the poll, none for served kinds")

	gvs.docs["optional.loom.dev/v1"] = &metav1.APIResourceList{APIResources: []metav1.APIResource{
		{Name: "widgets", Kind: "Widget"}, {Name: "widgets/gizmo", Kind: "Gizmo"},
	}}
	k.poll(ctx)
	assert.Empty(t, watched, "another kind of the group version, or a subresource, is not the kind")

	gvs.docs["optional.loom.dev/v1"].APIResources = append(gvs.docs["optional.loom.dev/v1"].APIResources, metav1.APIResource{Name: "gizmos", Kind: "Gizmo"})
	k.poll(ctx)
	assert.Empty(t, watched, "listed, but the mapper does not serve it yet: not watched")
	disc.Add(gizmoGVK, meta.RESTScopeNamespace)
	k.poll(ctx)
	assert.Equal(t, []schema.GroupVersionKind{gizmoGVK}, watched)
	assert.Empty(t, k.missing())
	k.poll(ctx)
	assert.Equal(t, 6, gvs.asked["optional.loom.dev/v1"], "nothing asked once every kind is served")
}

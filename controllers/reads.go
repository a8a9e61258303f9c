package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/render"
)

// Reads: the objects a graph reads but never applies (graph.Read). Each read kind is one
// informer of the manager's cache, restricted to what the graph's reads of that kind select
// (their namespace when all name one, their labels when all ask the same). What a render
// reads comes from that cache, and an event on a read object is mapped to exactly the
// instances whose selection includes it:
//
//   - a collection with instanceKey: the keys the expression yields for the object (before
//     and after an update). The cache holds an index on the same keys, so a render gets its
//     items by one index lookup, not by a scan of the kind.
//   - a read by name: the instances that read that name at their last reconcile, from a
//     map the reconciler keeps (one entry per instance and read).
//   - a collection without instanceKey: every instance of the object's namespace for a read
//     of the instance's namespace, otherwise every instance. This is the one case that
//     lists instances per event; give a collection an instanceKey to avoid it.

// readIndex names the cache index of a collection's instanceKey.
func readIndex(id string) string { return "loom.read." + id }

// readWatch holds what the reconciler knows about one graph's reads.
type readWatch struct {
	graph  *graph.Graph
	scheme *runtime.Scheme

	mu sync.Mutex
	// byName maps an object read by name to the instances that read it, and named holds,
	// per instance, what it read: a reconcile replaces its own entries.
	byName map[readTarget]map[types.NamespacedName]bool
	named  map[types.NamespacedName][]readTarget
}

type readTarget struct {
	gvk             schema.GroupVersionKind
	namespace, name string
}

func newReadWatch(g *graph.Graph, scheme *runtime.Scheme) *readWatch {
	return &readWatch{graph: g, scheme: scheme, byName: map[readTarget]map[types.NamespacedName]bool{}, named: map[types.NamespacedName][]readTarget{}}
}

// readCacheOptions restricts the informer of each read kind to what the graph's reads of it
// select. A kind the graph also renders shares its informer with loom's own objects, which
// is then not restricted to loom's label: the reads need the objects loom did not make.
func readCacheOptions(g *graph.Graph, scheme *runtime.Scheme, byObject map[client.Object]cache.ByObject) {
	for gvk, reads := range readKinds(g) {
		var existing client.Object
		for obj := range byObject {
			if objectGVK(scheme, obj) == gvk {
				existing = obj
			}
		}
		if existing != nil {
			byObject[existing] = cache.ByObject{}
			continue
		}
		byObject[newObject(scheme, gvk)] = readSelection(reads)
	}
}

// readSelection is the narrowest cache selection that still holds every object the reads of
// one kind may select.
func readSelection(reads []*graph.Read) cache.ByObject {
	var sel cache.ByObject
	namespaces := map[string]bool{}
	sameLabels := true
	for _, rd := range reads {
		if rd.Namespace == "" || rd.Namespace == parse.AllNamespaces || !rd.Kind.Namespaced {
			namespaces = nil
		} else if namespaces != nil {
			namespaces[rd.Namespace] = true
		}
		if !rd.Collection() || len(rd.MatchLabels) == 0 || !equalLabels(rd.MatchLabels, reads[0].MatchLabels) {
			sameLabels = false
		}
	}
	if len(namespaces) > 0 {
		sel.Namespaces = map[string]cache.Config{}
		for ns := range namespaces {
			sel.Namespaces[ns] = cache.Config{}
		}
	}
	if sameLabels {
		sel.Label = labels.SelectorFromSet(reads[0].MatchLabels)
	}
	return sel
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// readKinds groups the graph's reads by kind.
func readKinds(g *graph.Graph) map[schema.GroupVersionKind][]*graph.Read {
	out := map[schema.GroupVersionKind][]*graph.Read{}
	for _, rd := range g.Reads {
		out[rd.Kind.GVK] = append(out[rd.Kind.GVK], rd)
	}
	return out
}

func objectGVK(scheme *runtime.Scheme, obj client.Object) schema.GroupVersionKind {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.GroupVersionKind()
	}
	gvks, _, err := scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return schema.GroupVersionKind{}
	}
	return gvks[0]
}

// index adds the cache index of every collection of one kind that has an instanceKey.
func (w *readWatch) index(ctx context.Context, indexer client.FieldIndexer, gvk schema.GroupVersionKind, reads []*graph.Read) error {
	obj := newObject(w.scheme, gvk)
	for _, rd := range reads {
		if rd.InstanceKey == nil {
			continue
		}
		if err := indexer.IndexField(ctx, obj, readIndex(rd.ID), func(o client.Object) []string {
			keys, _ := w.keys(rd, o)
			return keys
		}); err != nil {
			return fmt.Errorf("indexing %s for read %s: %w", gvk.Kind, rd.ID, err)
		}
	}
	return nil
}

// keys evaluates a read's instanceKey on a cached object. An object the expression fails on
// is read by no instance.
func (w *readWatch) keys(rd *graph.Read, o client.Object) ([]string, error) {
	m, err := toMap(o)
	if err != nil {
		return nil, err
	}
	return render.ReadKeys(context.Background(), rd, m)
}

func toMap(o client.Object) (map[string]any, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.Object, nil
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(o)
}

// events maps an event on an object of one read kind to the instances that read it.
func (w *readWatch) events(gvk schema.GroupVersionKind, reads []*graph.Read, instance schema.GroupVersionKind, reader client.Reader) handler.TypedEventHandler[client.Object, reconcile.Request] {
	enqueue := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, rd := range reads {
			w.enqueue(ctx, gvk, rd, o, instance, reader, q)
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			// Both: an update may move an object from one instance's selection to another's.
			enqueue(ctx, e.ObjectOld, q)
			enqueue(ctx, e.ObjectNew, q)
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
	}
}

func (w *readWatch) enqueue(ctx context.Context, gvk schema.GroupVersionKind, rd *graph.Read, o client.Object, instance schema.GroupVersionKind, reader client.Reader, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	add := func(nn types.NamespacedName) { q.Add(reconcile.Request{NamespacedName: nn}) }
	if !rd.Collection() {
		w.mu.Lock()
		for nn := range w.byName[readTarget{gvk, o.GetNamespace(), o.GetName()}] {
			add(nn)
		}
		w.mu.Unlock()
		return
	}
	if !labels.SelectorFromSet(rd.MatchLabels).Matches(labels.Set(o.GetLabels())) {
		return
	}
	if rd.Kind.Namespaced && rd.Namespace != "" && rd.Namespace != parse.AllNamespaces && o.GetNamespace() != rd.Namespace {
		return
	}
	if rd.InstanceKey != nil {
		keys, _ := w.keys(rd, o)
		for _, k := range keys {
			if ns, name, ok := cutKey(k); ok {
				add(types.NamespacedName{Namespace: ns, Name: name})
			}
		}
		return
	}
	// No instanceKey: every instance that may select the object.
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(instance.GroupVersion().WithKind(instance.Kind + "List"))
	var opts []client.ListOption
	if rd.Namespace == "" && rd.Kind.Namespaced {
		opts = append(opts, client.InNamespace(o.GetNamespace()))
	}
	if err := reader.List(ctx, list, opts...); err != nil {
		return
	}
	for _, inst := range list.Items {
		add(types.NamespacedName{Namespace: inst.GetNamespace(), Name: inst.GetName()})
	}
}

func cutKey(k string) (string, string, bool) {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			return k[:i], k[i+1:], k[i+1:] != ""
		}
	}
	return "", k, k != ""
}

// observe adds what the instance's reads select, from the cache, to observed: the object of
// a read by name (when it exists), and a List of a collection's items. It records which
// names the instance read, for the event mapping. Reads of kinds that are not watched
// (watched is false: the API server does not serve them) are left out; the reconciler
// reports them if the render needs them.
func (w *readWatch) observe(ctx context.Context, reader client.Reader, inst *unstructured.Unstructured, config map[string]any, watched func(schema.GroupVersionKind) bool, observed map[string]*unstructured.Unstructured) error {
	if len(w.graph.Reads) == 0 {
		return nil
	}
	targets, err := render.ReadTargets(ctx, w.graph, render.Input{Instance: inst.Object, Config: config})
	if err != nil {
		return err
	}
	var named []readTarget
	for _, rd := range w.graph.Reads {
		if !watched(rd.Kind.GVK) {
			continue
		}
		if !rd.Collection() {
			t, ok := targets[rd.ID]
			if !ok {
				continue // skipped, or its name failed: the render says why
			}
			key := readTarget{rd.Kind.GVK, t.Namespace, t.Name}
			named = append(named, key)
			// Through the informer the watch uses (typed for built-in kinds): an event is
			// handled after that informer's store has it, so the render sees it too.
			obj := newObject(w.scheme, rd.Kind.GVK)
			err := reader.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, obj)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return fmt.Errorf("reading %s %s for %s: %w", rd.Kind.GVK.Kind, t.Name, rd.ID, err)
			default:
				m, err := toMap(obj)
				if err != nil {
					return err
				}
				u := &unstructured.Unstructured{Object: m}
				u.SetGroupVersionKind(rd.Kind.GVK) // typed objects from the cache carry no type meta
				observed[rd.ID] = u
			}
			continue
		}
		items, err := w.collection(ctx, reader, rd, inst)
		if err != nil {
			return err
		}
		observed[rd.ID] = &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "List", "items": items}}
	}
	w.remember(types.NamespacedName{Namespace: inst.GetNamespace(), Name: inst.GetName()}, named)
	return nil
}

func (w *readWatch) collection(ctx context.Context, reader client.Reader, rd *graph.Read, inst *unstructured.Unstructured) ([]any, error) {
	var opts []client.ListOption
	switch {
	case !rd.Kind.Namespaced || rd.Namespace == parse.AllNamespaces:
	case rd.Namespace == "":
		opts = append(opts, client.InNamespace(inst.GetNamespace()))
	default:
		opts = append(opts, client.InNamespace(rd.Namespace))
	}
	if len(rd.MatchLabels) > 0 {
		opts = append(opts, client.MatchingLabels(rd.MatchLabels))
	}
	if rd.InstanceKey != nil {
		opts = append(opts, client.MatchingFields{readIndex(rd.ID): graph.InstanceKey(inst.GetNamespace(), inst.GetName())})
	}
	list := newList(w.scheme, rd.Kind.GVK)
	if err := reader.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s for %s: %w", rd.Kind.GVK.Kind, rd.ID, err)
	}
	objs, err := items(list, rd.Kind.GVK)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out, nil
}

// remember replaces what an instance read by name.
func (w *readWatch) remember(inst types.NamespacedName, named []readTarget) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.named[inst] {
		delete(w.byName[t], inst)
		if len(w.byName[t]) == 0 {
			delete(w.byName, t)
		}
	}
	if len(named) == 0 {
		delete(w.named, inst)
		return
	}
	w.named[inst] = named
	for _, t := range named {
		if w.byName[t] == nil {
			w.byName[t] = map[types.NamespacedName]bool{}
		}
		w.byName[t][inst] = true
	}
}

// readRules are get, list and watch on every kind the graph reads and does not render.
func readRules(g *graph.Graph, rendered map[string]map[string]bool) []rbacv1.PolicyRule {
	groups := map[string]map[string]bool{}
	for _, rd := range g.Reads {
		gvr, _ := meta.UnsafeGuessKindToResource(rd.Kind.GVK)
		if rendered[gvr.Group][gvr.Resource] {
			continue
		}
		if groups[gvr.Group] == nil {
			groups[gvr.Group] = map[string]bool{}
		}
		groups[gvr.Group][gvr.Resource] = true
	}
	var rules []rbacv1.PolicyRule
	for _, group := range slices.Sorted(maps.Keys(groups)) {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: slices.Sorted(maps.Keys(groups[group])), Verbs: []string{"get", "list", "watch"}})
	}
	return rules
}

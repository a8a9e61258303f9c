package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
)

// Options configure the reconciler.
type Options struct {
	// Config is the operator configuration the graph declares (graph.ConfigFromEnv reads
	// it from the environment). Missing keys take the graph's defaults.
	Config map[string]any
	// Concurrency is how many instances reconcile at once.
	Concurrency int
	// Now is the clock for condition transition times; time.Now when nil.
	Now func() time.Time
	// DiscoveryPeriod is how often the API server is asked whether it serves the graph's
	// kinds it did not serve so far (a CRD not installed yet); DefaultDiscoveryPeriod when
	// zero.
	DiscoveryPeriod time.Duration
	// SkipNameValidation lets one process register the same graph more than once (tests
	// that start a manager per test); controller-runtime refuses it otherwise.
	SkipNameValidation bool
}

// CacheOptions returns base with what the reconciler needs from the manager's cache: the
// graph's kinds watched only where they carry loom's graph label, built-in kinds cached as
// typed objects, and managedFields kept only for loom's own apply entry (the rest is dead
// weight in memory). scheme must be the manager's. The manager must be created with these
// options, and with MapperProvider(g) when a kind of the graph may be absent from the
// cluster; Add cannot change them afterwards.
func CacheOptions(g *graph.Graph, scheme *runtime.Scheme, base cache.Options) cache.Options {
	sel := labels.NewSelector()
	req, err := labels.NewRequirement(applied.LabelGraph, selection.Equals, []string{g.Name})
	if err == nil {
		sel = sel.Add(*req)
	}
	if base.ByObject == nil {
		base.ByObject = map[client.Object]cache.ByObject{}
	}
	seen := map[schema.GroupVersionKind]bool{}
	for _, n := range g.Nodes {
		if !seen[n.Kind.GVK] {
			seen[n.Kind.GVK] = true
			base.ByObject[newObject(scheme, n.Kind.GVK)] = cache.ByObject{Label: sel}
		}
	}
	readCacheOptions(g, scheme, base.ByObject)
	base.DefaultTransform = keepOwnManagedFields
	return base
}

// WatchNamespaces returns base restricted to namespaces: the manager's cache lists and
// watches only there, so an instance elsewhere is never seen and never reconciled, and the
// objects the reconciler writes (always in their instance's namespace) and its Events stay
// in the list. Namespaced Roles in those namespaces are then all the access it needs
// (NamespacedRules). No namespaces leaves base as it is: every namespace.
func WatchNamespaces(base cache.Options, namespaces []string) cache.Options {
	if len(namespaces) == 0 {
		return base
	}
	base.DefaultNamespaces = make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		base.DefaultNamespaces[ns] = cache.Config{}
	}
	return base
}

// ClientOptions makes the manager's client read unstructured objects from the cache, as
// it does typed ones; without it every read of the reconciler would be a GET.
func ClientOptions(base client.Options) client.Options {
	base.Cache = &client.CacheOptions{Unstructured: true}
	return base
}

func keepOwnManagedFields(in any) (any, error) {
	obj, ok := in.(metav1.Object)
	if !ok {
		return in, nil
	}
	mf := obj.GetManagedFields()
	if mf == nil {
		return in, nil
	}
	var keep []metav1.ManagedFieldsEntry
	for _, e := range mf {
		if e.Manager == applied.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			keep = append(keep, e)
		}
	}
	obj.SetManagedFields(keep)
	return in, nil
}

var _ toolscache.TransformFunc = keepOwnManagedFields

// Add builds a reconciler for g and registers it, its watches and its readiness check
// with mgr. mgr must have been created with CacheOptions(g, ...), ClientOptions(...) and
// MapperProvider(g). It asks discovery which of the graph's kinds the API server serves:
// those are watched from the start, the others once they appear (kinds.go).
//
// Lifecycle: nothing runs until mgr.Start(ctx); everything stops when that ctx is done,
// with no other handle to close. A failure to start or to sync the informers does not
// end in a log line only: the returned checker (also registered as the manager's "loom"
// readyz check) fails until every informer the reconciler needs has synced, so /readyz
// tells a reconciler that never started from one that did.
func Add(mgr manager.Manager, g *graph.Graph, opts Options) (healthz.Checker, error) {
	if g.Instance == nil {
		return nil, errors.New("the graph has no instance kind")
	}
	r, err := newReconciler(mgr, g, opts)
	if err != nil {
		return nil, err
	}

	// Which kinds the API server serves decides what is watched now; kindWatch watches
	// the others once they appear (kinds.go).
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	r.kinds = newKindWatch(g, discoveryOf(mgr.GetRESTMapper()), disc, opts.DiscoveryPeriod, r.log)
	served := r.kinds.discover()

	instance := &unstructured.Unstructured{}
	instance.SetGroupVersionKind(g.Instance.GVK)
	c, err := builder.ControllerManagedBy(mgr).
		Named(g.Name).
		// The instance's own status writes come back as updates; only changes to what a
		// graph can read (spec, through the generation; labels; annotations) call for a
		// reconcile.
		For(instance, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{},
			predicate.AnnotationChangedPredicate{},
		))).
		WatchesRawSource(source.Channel(r.kinds.wake, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(opts.Concurrency, 1), SkipNameValidation: &opts.SkipNameValidation}).
		Build(r)
	if err != nil {
		return nil, err
	}
	r.kinds.watch = r.watcher(mgr.GetCache(), c)
	for _, gvk := range served {
		if err := r.kinds.watch(context.Background(), gvk); err != nil {
			return nil, err
		}
		r.kinds.markWatched(gvk)
	}
	if err := mgr.Add(r.kinds); err != nil {
		return nil, err
	}

	instances.watch(r, mgr.GetCache())
	synced := &syncCheck{cache: mgr.GetCache(), objects: []client.Object{instance}}
	if err := mgr.Add(synced); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("loom", synced.Check); err != nil {
		return nil, err
	}
	return synced.Check, nil
}

// newReconciler builds the reconciler of g from mgr's client, cache, mapper and
// recorder, after checking opts.Config against the graph's configuration keys.
func newReconciler(mgr manager.Manager, g *graph.Graph, opts Options) (*reconciler, error) {
	dyn, err := dynamic.NewForConfig(mgr.GetConfig())
	if err != nil {
		return nil, err
	}
	tc, err := g.Schemas.TypeConverter()
	if err != nil {
		return nil, fmt.Errorf("building the type converter: %w", err)
	}
	if _, err := g.ConfigValues(opts.Config); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &reconciler{
		graph:    g,
		scheme:   mgr.GetScheme(),
		config:   opts.Config,
		reader:   mgr.GetClient(),
		applier:  &applier{dynamic: dyn, mapper: mgr.GetRESTMapper(), types: tc, fieldHashes: map[string][32]byte{}},
		recorder: mgr.GetEventRecorderFor("loom"),
		now:      now,
		log:      mgr.GetLogger().WithName("loom").WithValues("graph", g.Name),
		reads:    newReadWatch(g, mgr.GetScheme()),
	}, nil
}

// watcher returns the function that indexes the cache for one kind of the graph and
// watches it through c: as a kind the graph renders (an object maps to its instance) and as
// a kind it reads (reads.go). Add calls it for the kinds served at start, kindWatch for
// those that appear later; a kind's indexes are added once, even if its watch failed.
func (r *reconciler) watcher(cache cache.Cache, c controller.Controller) func(context.Context, schema.GroupVersionKind) error {
	var mu sync.Mutex
	indexed := map[schema.GroupVersionKind]bool{}
	rendered := map[schema.GroupVersionKind]bool{}
	for _, gvk := range r.childKinds() {
		rendered[gvk] = true
	}
	reads := readKinds(r.graph)
	return func(ctx context.Context, gvk schema.GroupVersionKind) error {
		mu.Lock()
		defer mu.Unlock()
		obj := newObject(r.scheme, gvk)
		if !indexed[gvk] {
			if rendered[gvk] {
				if err := indexChild(ctx, cache, obj); err != nil {
					return fmt.Errorf("indexing %s: %w", gvk.Kind, err)
				}
			}
			if err := r.reads.index(ctx, cache, gvk, reads[gvk]); err != nil {
				return err
			}
			indexed[gvk] = true
		}
		if rendered[gvk] {
			if err := c.Watch(source.Kind(cache, obj, r.childEvents(r.graph.Instance.GVK))); err != nil {
				return err
			}
		}
		if len(reads[gvk]) > 0 {
			return c.Watch(source.Kind(cache, obj, r.reads.events(gvk, reads[gvk], r.graph.Instance.GVK, r.reader)))
		}
		return nil
	}
}

// indexChild indexes cached objects of child's kind by the UID of their controller
// (indexOwner) and, for shared objects, by node id (indexShared).
func indexChild(ctx context.Context, indexer client.FieldIndexer, child client.Object) error {
	if err := indexer.IndexField(ctx, child, indexOwner, func(o client.Object) []string {
		if ref := metav1.GetControllerOf(o); ref != nil {
			return []string{string(ref.UID)}
		}
		return nil
	}); err != nil {
		return err
	}
	return indexer.IndexField(ctx, child, indexShared, func(o client.Object) []string {
		if _, own := o.GetLabels()[applied.LabelInstance]; !own && o.GetLabels()[applied.LabelNode] != "" {
			return []string{o.GetLabels()[applied.LabelNode]}
		}
		return nil
	})
}

// childEvents maps events of loom's objects to the instances to reconcile: an object an
// instance controls, to that instance; a shared object, to the instance that applied it
// last, and when it is deleted (its owner went, and the garbage collector took it) to every
// instance of its namespace, so that one renders it again.
func (r *reconciler) childEvents(instance schema.GroupVersionKind) handler.TypedEventHandler[client.Object, reconcile.Request] {
	owners := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, ref := range o.GetOwnerReferences() {
			if ref.Kind == instance.Kind && ref.APIVersion == instance.GroupVersion().String() {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: ref.Name}})
			}
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.recordEvent("add", e.Object)
			owners(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.recordEvent("update", e.ObjectNew)
			owners(e.ObjectNew, q)
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.recordEvent("delete", e.Object)
			if _, own := e.Object.GetLabels()[applied.LabelInstance]; own {
				owners(e.Object, q)
				return
			}
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(instance.GroupVersion().WithKind(instance.Kind + "List"))
			if err := r.reader.List(ctx, list, client.InNamespace(e.Object.GetNamespace())); err != nil {
				r.log.Error(err, "listing the instances of a namespace after a shared object went", "namespace", e.Object.GetNamespace())
				return
			}
			for _, inst := range list.Items {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: inst.GetNamespace(), Name: inst.GetName()}})
			}
		},
	}
}

// syncCheck is the "loom" readyz check, and the runnable behind it. It runs on every
// replica, leader or not (NeedLeaderElection is false: controller-runtime starts a
// runnable without it only on the leader, and a standby would never become Ready). It
// starts the informers of the instance kind and of the graph's kinds the API server
// serves (the field indexes made the latter already), so a standby holds a warm cache
// when it takes over, and reports ready once they have synced. A kind that is not served
// has no informer and is not waited for (kinds.go).
type syncCheck struct {
	cache   cache.Cache
	objects []client.Object
	ok      atomic.Bool
}

var _ manager.LeaderElectionRunnable = (*syncCheck)(nil)

func (s *syncCheck) NeedLeaderElection() bool { return false }

// Start asks for the informers until the API server serves their kinds (a CRD installed
// after the operator started), then waits for every informer of the cache to sync.
func (s *syncCheck) Start(ctx context.Context) error {
	for _, obj := range s.objects {
		err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := s.cache.GetInformer(ctx, obj)
			return err == nil, nil
		})
		if err != nil {
			return nil // stopped before the kind was served
		}
	}
	if s.cache.WaitForCacheSync(ctx) {
		s.ok.Store(true)
	}
	<-ctx.Done()
	return nil
}

func (s *syncCheck) Check(*http.Request) error {
	if !s.ok.Load() {
		return errors.New("informer caches have not synced")
	}
	return nil
}

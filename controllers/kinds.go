package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	engineschema "github.com/loom-mcp/loom/engine/schema"
)

// Kinds the cluster does not serve. A graph may render or read a kind whose CRD is not
// installed (cert-manager's Certificate on a cluster without cert-manager). That must not
// stop the manager, hold /readyz, or touch instances that do not use the kind:
//
//   - MapperProvider gives the cache a mapping for such a kind, so the manager can be
//     created with the graph's cache options;
//   - Add asks discovery which kinds are served, and indexes and watches only those: the
//     others have no informer, so the readiness check does not wait for them;
//   - a render that includes a node or a read of an unserved kind applies and prunes
//     nothing (a part of the graph could replace a working set of objects with a broken
//     one), and the instance reports an unservedError, terminal until the kind appears;
//   - while a kind is missing, kindWatch asks discovery every period whether it is served
//     now (one GET per group version that has missing kinds, a 404 while it has none); once
//     it is, kindWatch indexes and watches it as Add would have, and enqueues the instances
//     that failed for it.

// DefaultDiscoveryPeriod is how often discovery is asked about kinds that are not served.
const DefaultDiscoveryPeriod = 10 * time.Second

// MapperProvider returns the REST mapper for a manager that serves g
// (ctrl.Options.MapperProvider): controller-runtime's discovery mapper, and, for a kind of
// g that discovery does not map (its CRD is not installed, or discovery failed for a
// moment), the mapping g's schemas give.
// The cache asks for a mapping of every kind CacheOptions configures when the manager is
// created; without this, one absent CRD would stop the manager. The reconciler itself asks
// discovery, never this fallback, before it reads, watches or applies a kind.
func MapperProvider(g *graph.Graph) func(*rest.Config, *http.Client) (meta.RESTMapper, error) {
	return func(cfg *rest.Config, hc *http.Client) (meta.RESTMapper, error) {
		m, err := apiutil.NewDynamicRESTMapper(cfg, hc)
		if err != nil {
			return nil, err
		}
		return newKindMapper(g, m), nil
	}
}

// kindMapper is discovery, with a fallback mapping for the graph's kinds it does not serve.
type kindMapper struct {
	meta.RESTMapper // discovery
	fallback        map[schema.GroupVersionKind]*meta.RESTMapping
}

// RESTMapping is discovery's mapping, or, for a kind of the graph that discovery does not
// map now (not served, or discovery failed for a moment), the graph's. Only the cache's
// options see the latter: the reconciler applies only kinds that discovery itself mapped
// (kindWatch), which its cache then holds.
func (m *kindMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mapping, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err == nil {
		return mapping, nil
	}
	for gvk, fb := range m.fallback {
		if gvk.GroupKind() == gk && (len(versions) == 0 || slices.Contains(versions, gvk.Version)) {
			return fb, nil
		}
	}
	return nil, err
}

func newKindMapper(g *graph.Graph, discovery meta.RESTMapper) *kindMapper {
	fallback := map[schema.GroupVersionKind]*meta.RESTMapping{}
	for _, k := range graphKinds(g) {
		scope := meta.RESTScopeRoot
		if k.Namespaced {
			scope = meta.RESTScopeNamespace
		}
		gvr, _ := meta.UnsafeGuessKindToResource(k.GVK)
		fallback[k.GVK] = &meta.RESTMapping{Resource: gvr, GroupVersionKind: k.GVK, Scope: scope}
	}
	return &kindMapper{RESTMapper: discovery, fallback: fallback}
}

// discoveryOf is the mapper that tells what the API server serves: m without the fallback.
func discoveryOf(m meta.RESTMapper) meta.RESTMapper {
	if km, ok := m.(*kindMapper); ok {
		return km.RESTMapper
	}
	return m
}

// graphKinds are the kinds g renders or reads, other than its instance kind (the
// readiness check waits for that one), each once, in the graph's order.
func graphKinds(g *graph.Graph) []*engineschema.Kind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []*engineschema.Kind
	add := func(k *engineschema.Kind) {
		if !seen[k.GVK] && (g.Instance == nil || k.GVK != g.Instance.GVK) {
			seen[k.GVK] = true
			out = append(out, k)
		}
	}
	for _, n := range g.Nodes {
		add(n.Kind)
	}
	for _, rd := range g.Reads {
		add(rd.Kind)
	}
	return out
}

// unservedError says that an instance needs a kind the API server does not serve, and
// what to install. It is terminal: kindWatch enqueues the instance when the kind appears.
type unservedError struct {
	id   string // the node or read
	kind *engineschema.Kind
}

func (e *unservedError) Error() string {
	msg := fmt.Sprintf("resource %s: kind %s (%s) is not served by the API server", e.id, e.kind.GVK.Kind, e.kind.GVK.GroupVersion())
	if e.kind.CRD != "" {
		return msg + "; install its CRD (" + e.kind.CRD + ")"
	}
	return msg + "; this cluster's Kubernetes does not offer that API version"
}

// kindWatch knows which of the graph's kinds are served and watched, and, for those that
// are not, which instances wait for them. It runs on every replica, leader or not, so that
// a standby's cache holds a kind that appeared before it takes over.
type kindWatch struct {
	// discovery maps the kinds (and its cache learns a kind once asked about it); lister
	// asks about a whole group version, once a period for all its missing kinds.
	discovery meta.RESTMapper
	lister    groupVersionLister
	period    time.Duration
	kinds     []*engineschema.Kind
	// watch indexes the cache for a kind and watches it (Add's, then kindWatch's job).
	watch func(ctx context.Context, gvk schema.GroupVersionKind) error
	// wake carries the instances to reconcile once a kind they wait for is served.
	wake chan event.GenericEvent
	log  logr.Logger

	mu      sync.Mutex
	served  map[schema.GroupVersionKind]bool
	waiting map[schema.GroupVersionKind]map[types.NamespacedName]bool
	// asked is when discovery was last asked about a group version; askMu makes one
	// question at a time, so that workers needing the same kind wait for one answer.
	asked map[schema.GroupVersion]time.Time
	askMu sync.Mutex
}

var _ manager.LeaderElectionRunnable = (*kindWatch)(nil)

// groupVersionLister is the part of client-go's discovery client kindWatch uses.
type groupVersionLister interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

var _ groupVersionLister = (discovery.DiscoveryInterface)(nil)

func newKindWatch(g *graph.Graph, mapper meta.RESTMapper, lister groupVersionLister, period time.Duration, log logr.Logger) *kindWatch {
	if period <= 0 {
		period = DefaultDiscoveryPeriod
	}
	return &kindWatch{
		discovery: mapper, lister: lister, period: period, kinds: graphKinds(g), log: log,
		wake:    make(chan event.GenericEvent),
		served:  map[schema.GroupVersionKind]bool{},
		waiting: map[schema.GroupVersionKind]map[types.NamespacedName]bool{},
		asked:   map[schema.GroupVersion]time.Time{},
	}
}

// discoverBackoff bounds how long discover retries an API server that fails to answer
// (throttled, restarting): about 6 s in all.
var discoverBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 5}

// discover asks discovery which kinds are served. "No such kind" counts as not served; any
// other error is retried for a few seconds, after which the kind is treated as not served
// yet (logged), so a slow or restarting API server delays a kind, not the operator.
func (k *kindWatch) discover() []schema.GroupVersionKind {
	var served []schema.GroupVersionKind
	for _, kind := range k.kinds {
		var ok bool
		var last error
		err := wait.ExponentialBackoff(discoverBackoff, func() (bool, error) {
			ok, last = k.isServed(kind.GVK)
			return last == nil, nil
		})
		if err != nil {
			// Not known yet is not an error of the graph: the kind is polled with the
			// missing ones (Start) and watched once discovery answers for it.
			k.log.Error(last, "discovery did not answer; the kind is asked about again every period", "kind", kind.GVK.Kind, "apiVersion", kind.GVK.GroupVersion().String())
			continue
		}
		if ok {
			served = append(served, kind.GVK)
		}
	}
	return served
}

func (k *kindWatch) isServed(gvk schema.GroupVersionKind) (bool, error) {
	_, err := k.discovery.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("asking the API server whether it serves %s (%s): %w", gvk.Kind, gvk.GroupVersion(), err)
	}
	return true, nil
}

// watched reports whether gvk is served and watched: only then may the reconciler read it.
func (k *kindWatch) watched(gvk schema.GroupVersionKind) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.served[gvk]
}

func (k *kindWatch) markWatched(gvk schema.GroupVersionKind) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.served[gvk] = true
}

// need returns an error for each node and read of res (not skipped) whose kind is not
// watched, and records inst as waiting for those kinds (and no others). A missing kind
// whose group version discovery was not asked about within the period is asked about
// first: nothing polls for a kind no instance needs, so the first instance to need it
// must not report it missing on an answer older than a period. Checking and recording
// under one lock means a kind that appears meanwhile is either seen here or wakes inst.
func (k *kindWatch) need(ctx context.Context, g *graph.Graph, inst types.NamespacedName, res *render.Result) []error {
	if stale := k.stale(k.used(g, res)); len(stale) > 0 {
		k.ask(ctx, stale)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgetLocked(inst)
	var errs []error
	for _, u := range k.used(g, res) {
		if k.served[u.kind.GVK] {
			continue
		}
		errs = append(errs, &unservedError{id: u.id, kind: u.kind})
		if k.waiting[u.kind.GVK] == nil {
			k.waiting[u.kind.GVK] = map[types.NamespacedName]bool{}
		}
		k.waiting[u.kind.GVK][inst] = true
	}
	return errs
}

// use is one node or read of a render and its kind.
type use struct {
	id   string
	kind *engineschema.Kind
}

// used lists the nodes and reads of res that are not skipped, with their kinds.
func (k *kindWatch) used(g *graph.Graph, res *render.Result) []use {
	var out []use
	for _, n := range res.Nodes {
		if node, ok := g.Node(n.ID); ok && n.State != render.Skipped {
			out = append(out, use{n.ID, node.Kind})
		}
	}
	for _, rd := range g.Reads {
		if st, ok := res.Reads[rd.ID]; ok && st != render.Skipped {
			out = append(out, use{rd.ID, rd.Kind})
		}
	}
	return out
}

// stale returns the kinds of uses that are not served and whose group version discovery
// was not asked about within the period.
func (k *kindWatch) stale(uses []use) []schema.GroupVersionKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []schema.GroupVersionKind
	for _, u := range uses {
		gvk := u.kind.GVK
		if !k.served[gvk] && time.Since(k.asked[gvk.GroupVersion()]) >= k.period && !slices.Contains(out, gvk) {
			out = append(out, gvk)
		}
	}
	return out
}

// forget drops an instance that is gone from the waiting lists.
func (k *kindWatch) forget(inst types.NamespacedName) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgetLocked(inst)
}

func (k *kindWatch) forgetLocked(inst types.NamespacedName) {
	for gvk, w := range k.waiting {
		delete(w, inst)
		if len(w) == 0 {
			delete(k.waiting, gvk)
		}
	}
}

func (k *kindWatch) NeedLeaderElection() bool { return false }

// Start asks discovery every period about the kinds not served yet that an instance waits
// for, until every kind is served or ctx ends. A kind that appears is watched, then the
// instances waiting for it are enqueued. A kind no instance needs is not asked about: an
// idle operator sends nothing (need asks when an instance comes to need it).
func (k *kindWatch) Start(ctx context.Context) error {
	tick := time.NewTicker(k.period)
	defer tick.Stop()
	for len(k.missing()) > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		k.poll(ctx)
	}
	return nil
}

// poll asks about the missing kinds that instances wait for.
func (k *kindWatch) poll(ctx context.Context) {
	k.mu.Lock()
	var wanted []schema.GroupVersionKind
	for _, kind := range k.kinds {
		if !k.served[kind.GVK] && len(k.waiting[kind.GVK]) > 0 {
			wanted = append(wanted, kind.GVK)
		}
	}
	k.mu.Unlock()
	k.ask(ctx, wanted)
}

// ask asks discovery once for each group version of gvks not asked about within the
// period (a 404 while the group version has none), and watches the kinds it lists now.
func (k *kindWatch) ask(ctx context.Context, gvks []schema.GroupVersionKind) {
	k.askMu.Lock()
	defer k.askMu.Unlock()
	byGV := map[schema.GroupVersion][]schema.GroupVersionKind{}
	var gvs []schema.GroupVersion
	k.mu.Lock()
	for _, gvk := range gvks {
		gv := gvk.GroupVersion()
		if time.Since(k.asked[gv]) < k.period && byGV[gv] == nil {
			continue // asked meanwhile, by another worker or the poll
		}
		if byGV[gv] == nil {
			gvs = append(gvs, gv)
			k.asked[gv] = time.Now()
		}
		byGV[gv] = append(byGV[gv], gvk)
	}
	k.mu.Unlock()
	for _, gv := range gvs {
		list, err := k.lister.ServerResourcesForGroupVersion(gv.String())
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			k.log.Error(err, "asking discovery about a group version of the graph; trying again", "groupVersion", gv.String())
			continue
		}
		for _, gvk := range byGV[gv] {
			if !lists(list, gvk.Kind) {
				continue
			}
			if err := k.appear(ctx, gvk); err != nil {
				k.log.Error(err, "watching a kind of the graph; trying again", "kind", gvk.Kind, "apiVersion", gv.String())
			}
		}
	}
}

// lists reports whether a discovery document lists kind as a resource (not a subresource).
func lists(list *metav1.APIResourceList, kind string) bool {
	for _, r := range list.APIResources {
		if r.Kind == kind && !strings.Contains(r.Name, "/") {
			return true
		}
	}
	return false
}

func (k *kindWatch) missing() []schema.GroupVersionKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []schema.GroupVersionKind
	for _, kind := range k.kinds {
		if !k.served[kind.GVK] {
			out = append(out, kind.GVK)
		}
	}
	return out
}

// appear watches gvk if the API server serves it now, and wakes the instances waiting for it.
func (k *kindWatch) appear(ctx context.Context, gvk schema.GroupVersionKind) error {
	ok, err := k.isServed(gvk)
	if err != nil || !ok {
		return err
	}
	if err := k.watch(ctx, gvk); err != nil {
		return err
	}
	k.mu.Lock()
	k.served[gvk] = true
	waiting := k.waiting[gvk]
	delete(k.waiting, gvk)
	k.mu.Unlock()
	k.log.Info("the API server serves a kind of the graph now; watching it", "kind", gvk.Kind, "apiVersion", gvk.GroupVersion().String(), "instances", len(waiting))
	for nn := range waiting {
		obj := &unstructured.Unstructured{}
		obj.SetNamespace(nn.Namespace)
		obj.SetName(nn.Name)
		select {
		case k.wake <- event.GenericEvent{Object: obj}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

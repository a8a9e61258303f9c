package controllers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
)

// reconciler reconciles the instances of one graph.
type reconciler struct {
	graph    *graph.Graph
	scheme   *runtime.Scheme
	config   map[string]any
	reader   client.Reader // the manager's cache
	applier  *applier
	recorder record.EventRecorder
	now      func() time.Time
	log      logr.Logger
	reads    *readWatch // reads.go
	kinds    *kindWatch // kinds.go
}

// pass is what one reconcile of one instance reads, renders and does. Phase 2 (observe)
// fills live and observed; phase 3 (converge) fills in, res, changes and errs, and keeps
// observed current as applies return.
type pass struct {
	inst *unstructured.Unstructured
	// live are the objects the instance has in the cache, by node id.
	live map[string]*unstructured.Unstructured
	// owned is every object of the graph's kinds the instance controls, by the cache: its
	// inventory, which pruning compares with what the graph renders now.
	owned []*unstructured.Unstructured
	// observed is what render sees of each node: the live object, then what an apply returned.
	observed map[string]map[string]any
	in       render.Input
	res      *render.Result
	// applied are the nodes applied (or found unchanged) in an earlier round of this pass.
	applied map[string]bool
	changes []change
	errs    []error // apply and prune errors; the status reports them
}

// Reconcile brings one instance's objects to what the graph renders for it and writes the
// status the graph computes. It is safe to call concurrently for different instances.
func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// 1. Fetch the instance from the cache. Once it is gone, the garbage collector deletes
	// its objects through their ownerReferences: nothing to do.
	inst := &unstructured.Unstructured{}
	inst.SetGroupVersionKind(r.graph.Instance.GVK)
	if err := r.reader.Get(ctx, req.NamespacedName, inst); err != nil {
		if apierrors.IsNotFound(err) {
			r.kinds.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if inst.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, nil
	}

	// 2. Observe the objects this instance owns, from the cache, by node id.
	p := &pass{inst: inst, applied: map[string]bool{}}
	if err := r.observe(ctx, p); err != nil {
		return ctrl.Result{}, err
	}
	reads := map[string]*unstructured.Unstructured{}
	if err := r.reads.observe(ctx, r.reader, inst, r.config, r.kinds.watched, reads); err != nil {
		return ctrl.Result{}, err
	}
	for id, obj := range reads {
		p.observed[id] = obj.Object
	}

	// 3. Render, apply and render again: an apply's result is observed data that nodes
	// waiting on it can render from in the same pass.
	r.converge(ctx, p)
	r.report(req, p)

	// 4. Readiness and status, from what is observed now, with apply errors in scope.
	var errs []string
	for _, e := range p.errs {
		errs = append(errs, e.Error())
	}
	rep, err := render.Status(ctx, r.graph, p.in, p.res, render.StatusOptions{Now: r.now(), Errors: errs})
	if err != nil {
		return ctrl.Result{}, err
	}
	if holdStatus(p, rep) {
		return ctrl.Result{RequeueAfter: statusHold}, nil
	}
	if err := r.writeStatus(ctx, inst, rep.Status); err != nil {
		return ctrl.Result{}, err
	}

	// 5. Transient errors retry with backoff; terminal ones wait for a watch event (retry).
	// Waiting for objects to become ready needs no requeue: their changes arrive as watch
	// events.
	return ctrl.Result{}, retry(p.errs)
}

// statusHold is how long a held status waits at most: the reconcile that writes it comes
// sooner when the objects just created change (their controllers fill in their status).
const statusHold = 2 * time.Second

// holdStatus says whether the pass holds its status back rather than writing it: it
// created objects, nothing failed, and some of them are not ready yet. The status would
// say "not ready" about objects a moment old, and the next reconcile, which their first
// status changes bring, would write it again; in a fleet's convergence, when reconciles
// wait in the queue, that one is often the Ready status. An instance's first status (or
// the status after a change that adds objects) comes at most statusHold later.
func holdStatus(p *pass, rep *render.Report) bool {
	if len(p.errs) > 0 || len(rep.Errors) > 0 {
		return false
	}
	made := false
	for _, ch := range p.changes {
		made = made || ch.Action == Created
	}
	if !made {
		return false
	}
	for _, n := range p.res.Nodes {
		if n.State == render.Rendered && !rep.Ready[n.ID] {
			return true
		}
	}
	return false
}

// report logs what a pass changed and records an Event for each field taken back and each
// object loom leaves alone because it is not this instance's.
func (r *reconciler) report(req ctrl.Request, p *pass) {
	for _, err := range p.errs {
		var own *ownershipError
		if errors.As(err, &own) {
			r.recorder.Event(p.inst, corev1.EventTypeWarning, "NotOwned", own.Error())
		}
	}
	log := r.log.WithValues("instance", req.NamespacedName)
	for _, ch := range p.changes {
		if ch.Action != Unchanged {
			log.V(1).Info(string(ch.Action), "node", ch.Node, "kind", ch.Object.GetKind(), "name", ch.Object.GetName())
		}
		if ch.Conflict != "" {
			r.recorder.Eventf(p.inst, corev1.EventTypeWarning, "FieldConflict", "%s: another manager held fields loom sets; loom took them back: %s", ch.Node, ch.Conflict)
		}
	}
}

// observe finds, in the cache, the objects the instance controls and the shared objects of
// its namespace, by node id. Kinds that are not watched (not served) have no objects.
func (r *reconciler) observe(ctx context.Context, p *pass) error {
	ns := p.inst.GetNamespace()
	p.live = map[string]*unstructured.Unstructured{}
	for _, gvk := range r.childKinds() {
		if !r.kinds.watched(gvk) {
			continue
		}
		objs, err := r.list(ctx, gvk, client.InNamespace(ns), client.MatchingFields{indexOwner: string(p.inst.GetUID())})
		if err != nil {
			return err
		}
		p.owned = append(p.owned, objs...)
		for _, obj := range objs {
			if n, ok := r.graph.Node(obj.GetLabels()[applied.LabelNode]); ok && !n.Shared && n.Kind.GVK == gvk {
				p.live[liveKey(n, obj.Object)] = obj
			}
		}
	}
	for _, n := range r.graph.Nodes {
		if !n.Shared || !r.kinds.watched(n.Kind.GVK) {
			continue
		}
		objs, err := r.list(ctx, n.Kind.GVK, client.InNamespace(ns), client.MatchingFields{indexShared: n.ID})
		if err != nil {
			return err
		}
		if len(objs) > 0 {
			p.live[n.ID] = objs[0]
		}
	}
	p.observed = observedOf(r.graph, p.live)
	p.in = render.Input{Instance: p.inst.Object, Config: r.config, Observed: p.observed}
	return nil
}

// list reads objects of gvk from the cache, as unstructured objects.
func (r *reconciler) list(ctx context.Context, gvk schema.GroupVersionKind, opts ...client.ListOption) ([]*unstructured.Unstructured, error) {
	list := newList(r.scheme, gvk)
	if err := r.reader.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	return items(list, gvk)
}

func (r *reconciler) childKinds() []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, n := range r.graph.Nodes {
		if !seen[n.Kind.GVK] {
			seen[n.Kind.GVK] = true
			out = append(out, n.Kind.GVK)
		}
	}
	return out
}

// converge renders and applies until no node is left to apply. Nodes that render in the
// same round are applied concurrently. When any node fails to render, or the instance
// fails a check, nothing is applied or pruned: invalid input never leaves half an object
// graph behind. The same holds when the render needs a kind the API server does not serve
// (kinds.go): the objects the instance has stay as they are until the kind appears.
func (r *reconciler) converge(ctx context.Context, p *pass) {
	p.res = &render.Result{}
	for round := 0; ; round++ {
		res, err := r.render(ctx, p.in)
		if err != nil {
			p.res = &render.Result{}
			p.errs = append(p.errs, err)
			return
		}
		p.res = res
		if res.Invalid || failed(res) || round > len(r.graph.Nodes) {
			return
		}
		nn := types.NamespacedName{Namespace: p.inst.GetNamespace(), Name: p.inst.GetName()}
		if errs := r.kinds.need(ctx, r.graph, nn, res); len(errs) > 0 {
			p.errs = append(p.errs, errs...)
			return
		}
		var batch []render.Node
		waiting := false
		for _, n := range res.Nodes {
			switch {
			case n.State == render.Rendered && !p.applied[n.ID]:
				batch = append(batch, n)
			case n.State == render.Waiting:
				waiting = true
			}
		}
		r.applyAll(ctx, p, units(batch))
		if len(p.errs) > 0 {
			return
		}
		// Render again only if a node waits on an object this round may have applied.
		if len(batch) == 0 || !waiting {
			r.prune(ctx, p)
			return
		}
	}
}

// applyAll applies a batch of rendered nodes concurrently, and records each result as the
// node's observed object.
func (r *reconciler) applyAll(ctx context.Context, p *pass, batch []render.Node) {
	results := make([]change, len(batch))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, n := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.applyNode(ctx, p.inst, n, liveObject(r.graph, p.live, n))
		}()
	}
	wg.Wait()
	for i, n := range batch {
		p.applied[n.ID] = true
		r.recordApply(n.Object, results[i], errs[i])
		if errs[i] != nil {
			p.errs = append(p.errs, errs[i])
			continue
		}
		p.changes = append(p.changes, results[i])
		setObserved(r.graph, p.observed, n.ID, results[i].Object.Object)
	}
}

// prune deletes the objects the instance controls that the graph no longer renders
// (pruneable).
func (r *reconciler) prune(ctx context.Context, p *pass) {
	for _, obj := range pruneable(r.graph, p.res, p.observed, p.owned) {
		id := obj.GetLabels()[applied.LabelNode]
		ch, err := r.applier.prune(ctx, id, obj)
		r.recordApply(obj.Object, ch, err)
		if err != nil {
			p.errs = append(p.errs, err)
			continue
		}
		p.changes = append(p.changes, ch)
		node, inGraph := r.graph.Node(id)
		if out, _ := p.res.Node(id); inGraph && !node.Shared && node.Kind.GVK == obj.GroupVersionKind() && out.State == render.Skipped {
			delete(p.observed, id)
		}
	}
}

// pruneable are the objects of owned (what the instance controls) that a render no longer
// accounts for: those of nodes skipped now, of nodes that left the graph (removed,
// renamed, of another kind now), and any other object of a node rendered and observed
// (its name changed; for a collection, its item gone). Objects of nodes waiting for data stay. Shared objects are never in
// the inventory: other instances of the namespace may render them; they go with the
// instance that owns them.
func pruneable(g *graph.Graph, res *render.Result, observed map[string]map[string]any, owned []*unstructured.Unstructured) []*unstructured.Unstructured {
	keep := map[types.UID]bool{}
	state := map[string]render.State{}
	for _, n := range res.Nodes {
		state[n.ID] = n.State
		for _, uid := range keptUIDs(n, observed) {
			keep[uid] = true
		}
	}
	var out []*unstructured.Unstructured
	for _, obj := range owned {
		id := obj.GetLabels()[applied.LabelNode]
		node, inGraph := g.Node(id)
		current := inGraph && !node.Shared && node.Kind.GVK == obj.GroupVersionKind()
		if keep[obj.GetUID()] || (current && state[id] != render.Skipped && state[id] != render.Rendered) {
			continue
		}
		out = append(out, obj)
	}
	return out
}

func failed(res *render.Result) bool {
	for _, n := range res.Nodes {
		if n.State == render.Error {
			return true
		}
	}
	return false
}

// applyNode applies one rendered object, in the form engine/applied gives it (loom's
// labels, the intent, the instance's ownerReference), if loom may write it (claim).
func (r *reconciler) applyNode(ctx context.Context, inst *unstructured.Unstructured, n render.Node, live *unstructured.Unstructured) (change, error) {
	node, _ := r.graph.Node(n.ID)
	desired, err := applied.Object(r.graph, node, inst, n.Object)
	if err != nil {
		return change{Node: n.ID}, err
	}
	if live != nil && live.GetName() != desired.GetName() {
		live = nil // the template's name changed: the old object is pruned once this one is applied
	}
	if live == nil {
		existing, v, err := r.claim(ctx, inst, node, desired)
		if err != nil {
			return change{Node: n.ID}, err
		}
		if v == useAsIs {
			return change{Node: n.ID, Action: Skipped, Object: existing}, nil
		}
		live = existing
	}
	return r.applier.apply(ctx, node, desired, live)
}

// writeStatus writes status when it differs from the instance's, and records an Event when
// the status's phase (if the graph has one) reaches or leaves Error: what a person wants in
// `kubectl describe`. An instance that converges as it should records none, so a fleet's
// convergence sends no Event writes (they would queue behind it and trail it).
func (r *reconciler) writeStatus(ctx context.Context, inst *unstructured.Unstructured, status map[string]any) error {
	if status == nil {
		return nil
	}
	old, _, _ := unstructured.NestedMap(inst.Object, "status")
	if reflect.DeepEqual(normalize(old), normalize(status)) {
		return nil
	}
	if err := r.applier.applyStatus(ctx, inst, status); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing status: %w", err)
	}
	before, _ := old["phase"].(string)
	after, _ := status["phase"].(string)
	if after != "" && before != after && (before == "Error" || after == "Error") {
		kind := corev1.EventTypeNormal
		if after == "Error" {
			kind = corev1.EventTypeWarning
		}
		msg, _ := status["message"].(string)
		r.recorder.Eventf(inst, kind, "Phase"+after, "%s → %s%s", orNone(before), after, suffix(msg))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// normalize makes JSON values from the cache and from the engine comparable: numbers as
// int64 or float64, and no empty maps or lists where the other side has none.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if n := normalize(e); n != nil {
				out[k] = n
			}
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

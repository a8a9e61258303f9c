package controllers

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/readiness"
	"github.com/loom-mcp/loom/engine/render"
)

// Reconciler reconciles the instances of one graph.
type Reconciler struct {
	graph    *graph.Graph
	scheme   *runtime.Scheme
	config   map[string]any
	reader   client.Reader // the manager's cache
	applier  *applier
	recorder record.EventRecorder
	now      func() time.Time
	log      logr.Logger
	reads    *readWatch // reads.go
}

// Reconcile brings one instance's objects to what the graph renders for it and writes the
// status the graph computes. It is safe to call concurrently for different instances.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := r.log.WithValues("instance", req.NamespacedName)

	// 1. Fetch the instance from the cache. Once it is gone, the garbage collector deletes
	// its objects through their ownerReferences: nothing to do.
	inst := &unstructured.Unstructured{}
	inst.SetGroupVersionKind(r.graph.Instance.GVK)
	if err := r.reader.Get(ctx, req.NamespacedName, inst); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if inst.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, nil
	}

	// 2. Observe the objects this instance owns, from the cache, by node id.
	observed, err := r.observe(ctx, inst)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reads.observe(ctx, r.reader, inst, r.config, observed); err != nil {
		return ctrl.Result{}, err
	}

	// 3. Render, apply and render again: an apply's result is observed data that nodes
	// waiting on it can render from in the same pass.
	changes, in, res, applyErrs := r.converge(ctx, inst, observed)
	for _, ch := range changes {
		if ch.Action != Unchanged {
			log.V(1).Info(string(ch.Action), "node", ch.Node, "kind", ch.Object.GetKind(), "name", ch.Object.GetName())
		}
		if ch.Conflict != "" {
			r.recorder.Eventf(inst, corev1.EventTypeWarning, "FieldConflict", "%s: another manager held fields loom sets; loom took them back: %s", ch.Node, ch.Conflict)
		}
	}

	// 4. Readiness and status, from what is observed now, with apply errors in scope.
	var errs []string
	for _, e := range applyErrs {
		errs = append(errs, e.Error())
	}
	rep, err := readiness.Evaluate(ctx, r.graph, in, res, readiness.Options{Now: r.now(), Errors: errs})
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeStatus(ctx, inst, rep.Status); err != nil {
		return ctrl.Result{}, err
	}

	// 5. Apply errors retry with backoff. Waiting for objects to become ready needs no
	// requeue: their changes arrive as watch events.
	if len(applyErrs) > 0 {
		return ctrl.Result{}, applyErrs[0]
	}
	return ctrl.Result{}, nil
}

// observe finds, in the cache, the objects the instance controls and the shared objects of
// its namespace, by node id.
func (r *Reconciler) observe(ctx context.Context, inst *unstructured.Unstructured) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	for _, gvk := range r.childKinds() {
		objs, err := r.list(ctx, gvk, client.InNamespace(inst.GetNamespace()), client.MatchingFields{indexOwner: string(inst.GetUID())})
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if n, ok := r.graph.Node(obj.GetLabels()[LabelNode]); ok && !n.Shared && n.Kind.GVK == gvk {
				out[n.ID] = obj
			}
		}
	}
	for _, n := range r.graph.Nodes {
		if !n.Shared {
			continue
		}
		objs, err := r.list(ctx, n.Kind.GVK, client.InNamespace(inst.GetNamespace()), client.MatchingFields{indexShared: n.ID})
		if err != nil {
			return nil, err
		}
		if len(objs) > 0 {
			out[n.ID] = objs[0]
		}
	}
	return out, nil
}

// list reads objects of gvk from the cache, as unstructured objects.
func (r *Reconciler) list(ctx context.Context, gvk schema.GroupVersionKind, opts ...client.ListOption) ([]*unstructured.Unstructured, error) {
	list := newList(r.scheme, gvk)
	if err := r.reader.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	return items(list, gvk)
}

func (r *Reconciler) childKinds() []schema.GroupVersionKind {
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
// same pass are applied concurrently. When any node fails to render, or the instance
// fails a check, nothing is applied or pruned: invalid input never leaves half an object
// graph behind.
func (r *Reconciler) converge(ctx context.Context, inst *unstructured.Unstructured, live map[string]*unstructured.Unstructured) ([]Change, render.Input, *render.Result, []error) {
	observed := make(map[string]map[string]any, len(live))
	for id, obj := range live {
		observed[id] = obj.Object
	}
	in := render.Input{Instance: inst.Object, Config: r.config, Observed: observed}
	done := map[string]bool{}
	var changes []Change
	var errs []error
	for pass := 0; ; pass++ {
		res, err := render.Render(ctx, r.graph, in)
		if err != nil {
			return changes, in, &render.Result{}, append(errs, err)
		}
		if res.Invalid || failed(res) || pass > len(r.graph.Nodes) {
			return changes, in, res, errs
		}
		var batch []render.Node
		waiting := false
		for _, n := range res.Nodes {
			switch {
			case n.State == render.Rendered && !done[n.ID]:
				batch = append(batch, n)
			case n.State == render.Waiting:
				waiting = true
			}
		}
		changes, errs = r.applyAll(ctx, inst, batch, live, observed, done, changes, errs)
		if len(errs) > 0 {
			return changes, in, res, errs
		}
		// Render again only if a node waits on an object this pass may have applied.
		if len(batch) == 0 || !waiting {
			changes, errs = r.pruneSkipped(ctx, inst, res, live, observed, changes, errs)
			return changes, in, res, errs
		}
	}
}

// applyAll applies a batch of rendered nodes concurrently, and records each result as the
// node's observed object.
func (r *Reconciler) applyAll(ctx context.Context, inst *unstructured.Unstructured, batch []render.Node, live map[string]*unstructured.Unstructured, observed map[string]map[string]any, done map[string]bool, changes []Change, errs []error) ([]Change, []error) {
	results := make([]Change, len(batch))
	batchErrs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, n := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], batchErrs[i] = r.applyNode(ctx, inst, n, live[n.ID])
		}()
	}
	wg.Wait()
	for i, n := range batch {
		done[n.ID] = true
		if batchErrs[i] != nil {
			errs = append(errs, batchErrs[i])
			continue
		}
		changes = append(changes, results[i])
		observed[n.ID] = results[i].Object.Object
	}
	return changes, errs
}

// pruneSkipped deletes the objects of nodes that are skipped now. Shared objects stay: other
// instances of the namespace may render them; they go with the instance that owns them.
func (r *Reconciler) pruneSkipped(ctx context.Context, inst *unstructured.Unstructured, res *render.Result, live map[string]*unstructured.Unstructured, observed map[string]map[string]any, changes []Change, errs []error) ([]Change, []error) {
	for _, n := range res.Nodes {
		obj := live[n.ID]
		if node, _ := r.graph.Node(n.ID); n.State != render.Skipped || obj == nil || node.Shared {
			continue
		}
		ch, err := r.applier.prune(ctx, n.ID, obj)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		changes = append(changes, ch)
		delete(observed, n.ID)
	}
	return changes, errs
}

func failed(res *render.Result) bool {
	for _, n := range res.Nodes {
		if n.State == render.Failed {
			return true
		}
	}
	return false
}

// applyNode adds loom's labels, the intent and the instance's ownerReference to one
// rendered object, and applies it. The intent is stamped before the ownerReference, so
// that every instance stamps the same one on a shared object.
func (r *Reconciler) applyNode(ctx context.Context, inst *unstructured.Unstructured, n render.Node, live *unstructured.Unstructured) (Change, error) {
	node, _ := r.graph.Node(n.ID)
	desired := &unstructured.Unstructured{Object: n.Object}
	labels := desired.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelGraph] = r.graph.Name
	labels[LabelNode] = n.ID
	if !node.Shared {
		labels[LabelInstance] = inst.GetName()
	}
	desired.SetLabels(labels)
	if _, err := intent(desired); err != nil {
		return Change{Node: n.ID}, err
	}
	yes := true
	ref := metav1.OwnerReference{APIVersion: inst.GetAPIVersion(), Kind: inst.GetKind(), Name: inst.GetName(), UID: inst.GetUID()}
	if !node.Shared {
		ref.Controller, ref.BlockOwnerDeletion = &yes, &yes
	}
	desired.SetOwnerReferences(append(desired.GetOwnerReferences(), ref))
	return r.applier.apply(ctx, n.ID, desired, live, node.Shared)
}

// writeStatus writes status when it differs from the instance's, and records an Event when
// the status's phase (if the graph has one) reaches or leaves Ready or Error: the changes
// a person wants in `kubectl describe`, without an Event for every step of a rollout.
func (r *Reconciler) writeStatus(ctx context.Context, inst *unstructured.Unstructured, status map[string]any) error {
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
	if after != "" && before != after && (notable(before) || notable(after)) {
		kind := corev1.EventTypeNormal
		if after == "Error" {
			kind = corev1.EventTypeWarning
		}
		msg, _ := status["message"].(string)
		r.recorder.Eventf(inst, kind, "Phase"+after, "%s → %s%s", orNone(before), after, suffix(msg))
	}
	return nil
}

func notable(phase string) bool { return phase == "Ready" || phase == "Error" }

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

package controllers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
)

// change is the outcome for one object.
type change struct {
	Node   string
	Action Action
	Object *unstructured.Unstructured // what the API server returned, or the live object when unchanged
	// Conflict is set when plain updates by another manager (kubectl edit) had changed
	// fields loom sets: loom took them back with force, and says so.
	Conflict string
}

// applier applies desired objects with server-side apply, skipping applies that would
// change nothing.
type applier struct {
	dynamic dynamic.Interface
	mapper  meta.RESTMapper
	types   managedfields.TypeConverter

	mu sync.Mutex
	// fieldHashes caches the hash of the field set of each intent, by intent and owner:
	// computing a set converts the object to a typed value, and steady-state reconciles ask
	// for the same ones again and again. 32 bytes an object, not the set itself.
	fieldHashes map[string][32]byte
}

// maxFieldHashes bounds the cache; past it, the cache starts over.
const maxFieldHashes = 50000

// stripped are the fields the API server leaves out of every manager's field set.
var stripped = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// ownerRefs is the field of ownerReferences, which instances applying a shared object differ on.
var ownerRefs = fieldpath.NewSet(fieldpath.MakePathOrDie("metadata", "ownerReferences"))

// noop reports whether applying desired (already stamped by intent) over live would
// change nothing: live carries the same intent, and loom's manager owns exactly the fields
// desired sets. Anyone who changed one of those fields took it over, so the sets differ.
func (a *applier) noop(desired, live *unstructured.Unstructured, shared bool) bool {
	if live == nil || live.GetAnnotations()[applied.AnnotationIntent] != desired.GetAnnotations()[applied.AnnotationIntent] {
		return false
	}
	raw := ownedRaw(live)
	if raw == nil {
		return false
	}
	if shared {
		// Whichever instance applied a shared object last owns it; the others need not
		// take it over, so ownerReferences are left out of the comparison.
		owned := &fieldpath.Set{}
		want, err := a.fieldSet(desired)
		if err != nil || owned.FromJSON(bytes.NewReader(raw)) != nil {
			return false
		}
		return owned.RecursiveDifference(ownerRefs).Equals(want.RecursiveDifference(ownerRefs))
	}
	// The API server writes a manager's fields as the set's canonical JSON: comparing
	// hashes of that JSON compares the sets, without parsing the live one.
	key := desired.GetAnnotations()[applied.AnnotationIntent]
	for _, ref := range desired.GetOwnerReferences() {
		key += "/" + string(ref.UID)
	}
	a.mu.Lock()
	want, ok := a.fieldHashes[key]
	a.mu.Unlock()
	if !ok {
		set, err := a.fieldSet(desired)
		if err != nil {
			return false
		}
		js, err := set.ToJSON()
		if err != nil {
			return false
		}
		want = sha256.Sum256(js)
		a.mu.Lock()
		if len(a.fieldHashes) >= maxFieldHashes {
			a.fieldHashes = map[string][32]byte{}
		}
		a.fieldHashes[key] = want
		a.mu.Unlock()
	}
	return sha256.Sum256(raw) == want
}

// fieldSet is the set of fields an apply of obj claims, as the API server records it.
func (a *applier) fieldSet(obj *unstructured.Unstructured) (*fieldpath.Set, error) {
	tv, err := a.types.ObjectToTyped(obj)
	if err != nil {
		return nil, err
	}
	full, err := tv.ToFieldSet()
	if err != nil {
		return nil, err
	}
	return full.Difference(stripped), nil
}

// ownedRaw is the FieldsV1 JSON of loom's apply entry in obj's managedFields.
func ownedRaw(obj *unstructured.Unstructured) []byte {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == applied.FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" && mf.FieldsV1 != nil {
			return mf.FieldsV1.Raw
		}
	}
	return nil
}

func (a *applier) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.dynamic.Resource(m.Resource), nil
}

// apply server-side applies desired. It asks without force first, so that fields another
// manager took are reported (change.Conflict), then takes them back with force. A change
// the API server refuses as immutable deletes and creates the object again when the node
// allows it (Recreate), and is an *immutableError otherwise.
func (a *applier) apply(ctx context.Context, node *graph.Node, desired, live *unstructured.Unstructured) (change, error) {
	ch := change{Node: node.ID}
	if a.noop(desired, live, node.Shared) {
		ch.Action, ch.Object = Unchanged, live
		return ch, nil
	}
	ri, err := a.resource(desired)
	if err != nil {
		return ch, err
	}
	out, conflict, err := a.send(ctx, ri, desired, false)
	ch.Conflict = conflict
	if field := immutableField(err); field != "" && live != nil {
		if !node.Recreate {
			return ch, &immutableError{Kind: desired.GetKind(), Name: desired.GetName(), Node: node.ID, Field: field, Err: err}
		}
		if _, err := a.prune(ctx, node.ID, live); err != nil {
			return ch, err
		}
		out, _, err = a.send(ctx, ri, desired, false)
		if err == nil {
			ch.Object, ch.Action = out, Replaced
			return ch, nil
		}
	}
	if err != nil {
		return ch, err
	}
	ch.Object = out
	switch {
	case live == nil:
		ch.Action = Created
	case ownedRaw(live) == nil:
		ch.Action = Adopted
	default:
		ch.Action = Configured
	}
	return ch, nil
}

// send applies desired without force; on a conflict with fields that plain updates took,
// it applies again with force and returns the conflict's message. A conflict with another
// server-side applier is a *heldError. With dryRun, the API server runs the applies
// through admission and validation and returns what they would make, and stores nothing.
func (a *applier) send(ctx context.Context, ri dynamic.ResourceInterface, desired *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, string, error) {
	opts := metav1.ApplyOptions{FieldManager: applied.FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Apply(ctx, desired.GetName(), desired, opts)
	var conflict string
	if apierrors.IsConflict(err) {
		conflict = err.Error()
		appliers, gerr := conflictingAppliers(ctx, ri, desired.GetName(), err)
		if gerr != nil {
			return nil, conflict, gerr
		}
		if len(appliers) > 0 {
			// Another applier declared these fields: fighting it would flip them on
			// every reconcile of either side. Say so instead, and leave the object be.
			return nil, conflict, &heldError{Kind: desired.GetKind(), Name: desired.GetName(), Managers: appliers, Err: err}
		}
		// Plain updates (kubectl edit, a script) changed loom's fields: put them back.
		opts.Force = true
		out, err = ri.Apply(ctx, desired.GetName(), desired, opts)
	}
	if err != nil {
		return nil, conflict, fmt.Errorf("apply %s %s: %w", desired.GetKind(), desired.GetName(), err)
	}
	return out, conflict, nil
}

// get reads the object obj names from the API server.
func (a *applier) get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := a.resource(obj)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
}

// heldError is an apply refused because another server-side applier holds fields the
// graph sets. loom does not take them by force; the instance's status reports it.
type heldError struct {
	Kind, Name string
	Managers   []string
	Err        error
}

func (e *heldError) Error() string {
	return fmt.Sprintf("%s %s: fields loom sets are held by %s through server-side apply; loom does not fight them: stop setting them there, or in the graph (%v)",
		e.Kind, e.Name, strings.Join(e.Managers, ", "), e.Err)
}

func (e *heldError) Unwrap() error { return e.Err }

// conflictingAppliers names the managers of a conflict that hold their fields through
// apply, not update. The cache keeps no other manager's entries, so this reads the object
// (a conflict is rare; the steady state never gets here).
func conflictingAppliers(ctx context.Context, ri dynamic.ResourceInterface, name string, conflict error) ([]string, error) {
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s after a conflict: %w", name, err)
	}
	var out []string
	for _, mf := range obj.GetManagedFields() {
		if mf.Operation == metav1.ManagedFieldsOperationApply && mf.Manager != applied.FieldManager &&
			strings.Contains(conflict.Error(), fmt.Sprintf("%q", mf.Manager)) {
			out = append(out, mf.Manager)
		}
	}
	return out, nil
}

// prune deletes obj, only if it is still the object loom saw (same UID).
func (a *applier) prune(ctx context.Context, node string, obj *unstructured.Unstructured) (change, error) {
	ri, err := a.resource(obj)
	if err != nil {
		return change{Node: node}, err
	}
	uid := obj.GetUID()
	policy := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return change{Node: node}, fmt.Errorf("prune %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return change{Node: node, Action: Pruned, Object: obj}, nil
}

// applyStatus writes an instance's status through the status subresource.
func (a *applier) applyStatus(ctx context.Context, instance *unstructured.Unstructured, status map[string]any) error {
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": instance.GetAPIVersion(),
		"kind":       instance.GetKind(),
		"metadata":   map[string]any{"name": instance.GetName(), "namespace": instance.GetNamespace()},
		"status":     status,
	}}
	ri, err := a.resource(instance)
	if err != nil {
		return err
	}
	_, err = ri.ApplyStatus(ctx, instance.GetName(), patch, metav1.ApplyOptions{FieldManager: applied.FieldManager, Force: true})
	return err
}

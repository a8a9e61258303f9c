package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/graph"
)

// loom writes only objects it manages. The cache holds only objects that carry loom's graph
// label, so an object the instance does not hold there may still exist: before loom creates
// an object, it reads it (a GET, only then: the steady state never gets here) and decides
// with claim whether it may write it.

// verdict is what claim decides about an object a node renders.
type verdict int

const (
	// write: no such object, or one this instance controls (loom's, or MCP Runtime's, which
	// leaves the same controller ownerReference): apply it, adopting it in place.
	write verdict = iota
	// useAsIs: a shared object the platform made; loom reads it and never writes it.
	useAsIs
)

// claim reads the object desired names and decides whether inst may write it. existing is
// the object read, nil when there is none. An object loom may not write is an
// *ownershipError.
func (r *reconciler) claim(ctx context.Context, inst *unstructured.Unstructured, node *graph.Node, desired *unstructured.Unstructured) (existing *unstructured.Unstructured, v verdict, err error) {
	existing, err = r.applier.get(ctx, desired)
	if apierrors.IsNotFound(err) {
		return nil, write, nil
	}
	if err != nil {
		return nil, write, err
	}
	labels := existing.GetLabels()
	ours := labels[applied.LabelGraph] == r.graph.Name
	if ctl := metav1.GetControllerOf(existing); ctl != nil {
		if ctl.UID == inst.GetUID() {
			return existing, write, nil
		}
		if !node.Shared {
			return nil, write, &ownershipError{Kind: existing.GetKind(), Name: existing.GetName(), Node: node.ID,
				Holder: ctl.Kind + " " + ctl.Name, Loom: ours}
		}
	}
	if node.Shared {
		if ours {
			return existing, write, nil // loom's shared object, not in the cache yet
		}
		return existing, useAsIs, nil
	}
	if ours && labels[applied.LabelInstance] != "" && labels[applied.LabelInstance] != inst.GetName() {
		return nil, write, &ownershipError{Kind: existing.GetKind(), Name: existing.GetName(), Node: node.ID,
			Holder: inst.GetKind() + " " + labels[applied.LabelInstance], Loom: true}
	}
	return nil, write, &ownershipError{Kind: existing.GetKind(), Name: existing.GetName(), Node: node.ID}
}

// ownershipError is an object a node renders that exists and is not this instance's: loom
// leaves it untouched, and the instance reports it until the object or the instance changes.
type ownershipError struct {
	Kind, Name, Node string
	// Holder is the instance (or other owner) whose object it is; empty for an object that
	// is nobody's in loom's eyes (made by hand, by Helm, by another operator).
	Holder string
	Loom   bool // the holder is an instance of this graph
}

func (e *ownershipError) Error() string {
	if e.Holder != "" && e.Loom {
		return fmt.Sprintf("resource %s: %s %s is held by %s, which renders the same object; loom leaves it to its holder: rename one of the two",
			e.Node, e.Kind, e.Name, e.Holder)
	}
	if e.Holder != "" {
		return fmt.Sprintf("resource %s: %s %s is controlled by %s, not by this instance; loom leaves it untouched: delete or rename it, or rename the instance",
			e.Node, e.Kind, e.Name, e.Holder)
	}
	return fmt.Sprintf("resource %s: %s %s exists and is not loom's (no %s label, no ownerReference to this instance); loom leaves it untouched: delete or rename it, or rename the instance",
		e.Node, e.Kind, e.Name, applied.LabelGraph)
}

// immutableError is a change the API server refuses because it would change a field that
// cannot change in place, on a resource the graph does not allow loom to recreate.
type immutableError struct {
	Kind, Name, Node, Field string
	Err                     error
}

func (e *immutableError) Error() string {
	return fmt.Sprintf("resource %s: %s %s: the API server refuses to change %s (immutable); loom recreates an object only where the graph says it is safe (recreate: true): delete the object to have it created again, or mark the resource recreate: %v",
		e.Node, e.Kind, e.Name, e.Field, e.Err)
}

func (e *immutableError) Unwrap() error { return e.Err }

// immutableField names the field of an API server's refusal as immutable, "" for any
// other error.
func immutableField(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsInvalid(err) {
		return ""
	}
	details := status.Status().Details
	if details == nil {
		return ""
	}
	for _, c := range details.Causes {
		if strings.Contains(c.Message, "immutable") {
			if c.Field == "" {
				return "a field"
			}
			return c.Field
		}
	}
	return ""
}

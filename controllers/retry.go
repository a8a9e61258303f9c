package controllers

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Errors come in two kinds. Transient ones (the API server unreachable, throttling, a
// timeout, an internal error) are retried with backoff. Terminal ones cannot be fixed by
// trying again: only a change of the instance, of the graph or of the object in the way
// can. The reconciler reports them in the status and waits for the watch event of that
// change (reconcile.TerminalError), instead of backing off forever.

// terminal reports whether err is one that a retry cannot fix: an object loom may not
// write, fields another server-side applier holds, an immutable field, an object the
// API server rejects as invalid, or a kind it does not serve (kindWatch enqueues the
// instance when it does).
func terminal(err error) bool {
	var (
		own      *ownershipError
		held     *heldError
		imm      *immutableError
		unserved *unservedError
	)
	return errors.As(err, &own) || errors.As(err, &held) || errors.As(err, &imm) || errors.As(err, &unserved) || apierrors.IsInvalid(err)
}

// retry is what Reconcile returns for the errors of a pass: nil for none; the first
// transient error if there is one, so the instance is retried with backoff; otherwise the
// errors as one reconcile.TerminalError.
func retry(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs {
		if !terminal(err) {
			return err
		}
	}
	return reconcile.TerminalError(errors.Join(errs...))
}

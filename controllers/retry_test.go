package controllers

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestRetry(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), -1, "must be >= 0")})
	own := &ownershipError{Kind: "Deployment", Name: "web", Node: "deployment"}
	held := &heldError{Kind: "Deployment", Name: "web", Managers: []string{"hpa"}, Err: apierrors.NewConflict(gr, "web", errors.New("conflict"))}
	imm := &immutableError{Kind: "Deployment", Name: "web", Node: "deployment", Field: "spec.selector", Err: invalid}
	tests := []struct {
		name     string
		errs     []error
		terminal bool // a reconcile.TerminalError: no requeue
		none     bool
	}{
		{name: "no error", none: true},
		{name: "not ours", errs: []error{own}, terminal: true},
		{name: "held by another applier", errs: []error{held}, terminal: true},
		{name: "immutable field", errs: []error{imm}, terminal: true},
		{name: "invalid object, wrapped", errs: []error{fmt.Errorf("apply Deployment web: %w", invalid)}, terminal: true},
		{name: "throttled", errs: []error{apierrors.NewTooManyRequests("slow down", 1)}},
		{name: "internal error", errs: []error{apierrors.NewInternalError(errors.New("etcd"))}},
		{name: "timeout", errs: []error{apierrors.NewServerTimeout(gr, "patch", 1)}},
		{name: "connection refused", errs: []error{errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")}},
		{name: "terminal and transient: back off", errs: []error{own, apierrors.NewTooManyRequests("slow down", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := retry(tt.errs)
			if tt.none {
				assert.NoError(t, err)
				return
			}
			assert.Error(t, err)
			assert.Equal(t, tt.terminal, errors.Is(err, reconcile.TerminalError(nil)))
		})
	}
}

func TestImmutableField(t *testing.T) {
	gk := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"selector", fmt.Errorf("apply: %w", apierrors.NewInvalid(gk, "web", field.ErrorList{field.Invalid(field.NewPath("spec", "selector"), "x", "field is immutable")})), "spec.selector"},
		{"other invalid", apierrors.NewInvalid(gk, "web", field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), -1, "must be >= 0")}), ""},
		{"not invalid", apierrors.NewTooManyRequests("slow down", 1), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, immutableField(tt.err))
		})
	}
}

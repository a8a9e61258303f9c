package controllers

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/loom-mcp/loom/engine/render"
)

func TestHoldStatus(t *testing.T) {
	nodes := []render.Node{{ID: "deployment", State: render.Rendered}, {ID: "ingress", State: render.Skipped}}
	tests := []struct {
		name    string
		actions []Action
		errs    []error
		ready   map[string]bool
		failed  []string
		hold    bool
	}{
		{name: "created, not ready yet", actions: []Action{Created}, ready: map[string]bool{}, hold: true},
		{name: "created and already ready", actions: []Action{Created}, ready: map[string]bool{"deployment": true}},
		{name: "nothing created", actions: []Action{Configured, Unchanged}, ready: map[string]bool{}},
		{name: "no change at all", ready: map[string]bool{}},
		{name: "created, but an apply failed", actions: []Action{Created}, errs: []error{errors.New("refused")}, ready: map[string]bool{}},
		{name: "created, but a status expression failed", actions: []Action{Created}, ready: map[string]bool{}, failed: []string{"status.url: no such key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &pass{res: &render.Result{Nodes: nodes}, errs: tc.errs}
			for _, a := range tc.actions {
				p.changes = append(p.changes, change{Node: "deployment", Action: a})
			}
			assert.Equal(t, tc.hold, holdStatus(p, &render.Report{Ready: tc.ready, Errors: tc.failed}))
		})
	}
}

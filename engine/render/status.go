package render

import (
	"context"
	"errors"
	"time"

	"github.com/loom-mcp/loom/engine/graph"
)

// StatusOptions are the inputs of Status that do not come from the render.
type StatusOptions struct {
	// Now stamps lastTransitionTime on conditions whose status changed.
	Now time.Time
	// Errors are problems found outside the engine (an apply the API server refused);
	// status expressions see them after the render's own, in `errors`.
	Errors []string
}

// Report is the outcome of Status.
type Report struct {
	// Ready says, per node id, whether the node is rendered, observed, and passes every
	// readyWhen. Skipped nodes are not ready.
	Ready map[string]bool
	// Status is the instance's status as the graph computes it; fields whose expressions
	// read objects not observed yet are left out.
	Status map[string]any
	// Errors are the status expressions that failed for another reason.
	Errors []string
}

// Status computes, for a render's result and the objects observed, which nodes are ready
// (their readyWhen expressions) and the instance's status (the graph's status
// expressions). It spends from the render's CEL budget, and stops at its deadline.
func Status(ctx context.Context, g *graph.Graph, in Input, res *Result, opts StatusOptions) (*Report, error) {
	rep := &Report{Ready: make(map[string]bool, len(g.Nodes))}
	errs := append(append([]string{}, res.Errors...), opts.Errors...)
	ev := statusEvaluator(ctx, g, in, res, rep.Ready, errs, func(err error) bool {
		if !errors.Is(err, ErrPending) {
			rep.Errors = append(rep.Errors, err.Error())
		}
		return true
	})

	// 1. Readiness: a node is ready when it was rendered, its object is observed, and
	// every readyWhen holds. No readyWhen means observed is enough.
	for _, n := range g.Nodes {
		out, _ := res.Node(n.ID)
		ready := out.State == Rendered && ev.observed(n, out, in)
		for _, e := range n.ReadyWhen {
			if !ready {
				break
			}
			ok, err := ev.boolean(e)
			if err != nil && !errors.Is(err, ErrPending) {
				rep.Errors = append(rep.Errors, err.Error())
			}
			ready = err == nil && ok
		}
		rep.Ready[n.ID] = ready
	}
	ev.scope.allReady, ev.scope.anyReady = summarize(g, res, rep.Ready)

	// 2. Status.
	if g.Status == nil {
		return rep, nil
	}
	v, _, err := ev.eval(g.Status)
	if err != nil {
		return nil, err
	}
	rep.Status, _ = v.(map[string]any)
	if rep.Status == nil {
		rep.Status = map[string]any{}
	}
	keepTransitionTimes(rep.Status, in.Instance, opts.Now)
	return rep, nil
}

// keepTransitionTimes follows the Kubernetes convention for status.conditions: a
// condition's lastTransitionTime changes only when its status does. Conditions the graph
// stamped itself are left alone.
func keepTransitionTimes(status, instance map[string]any, now time.Time) {
	conds, ok := status["conditions"].([]any)
	if !ok {
		return
	}
	previous := map[string]map[string]any{}
	if st, ok := instance["status"].(map[string]any); ok {
		if old, ok := st["conditions"].([]any); ok {
			for _, c := range old {
				if m, ok := c.(map[string]any); ok {
					if t, ok := m["type"].(string); ok {
						previous[t] = m
					}
				}
			}
		}
	}
	stamp := now.UTC().Format(time.RFC3339)
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if _, set := m["lastTransitionTime"]; set {
			continue
		}
		t, _ := m["type"].(string)
		if old, ok := previous[t]; ok && old["status"] == m["status"] && old["lastTransitionTime"] != nil {
			m["lastTransitionTime"] = old["lastTransitionTime"]
		} else {
			m["lastTransitionTime"] = stamp
		}
	}
}

// summarize computes allReady and anyReady: over the nodes the instance waits for, those
// neither skipped nor marked ignoreReadiness, whether all are ready and whether any is.
// With no such node, all are (vacuously) and none is.
func summarize(g *graph.Graph, res *Result, ready map[string]bool) (all, some bool) {
	all = true
	for _, n := range g.Nodes {
		out, _ := res.Node(n.ID)
		if n.IgnoreReadiness || out.State == Skipped {
			continue
		}
		all = all && ready[n.ID]
		some = some || ready[n.ID]
	}
	return all, some
}

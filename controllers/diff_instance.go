package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/engine/applied"
	"github.com/loom-mcp/loom/engine/render"
)

// instancePass is one instance's diff in the making: the reconciler's pass with every
// apply a dry run.
type instancePass struct {
	inst  *unstructured.Unstructured
	owned []*unstructured.Unstructured
	live  map[string]*unstructured.Unstructured
	// now is what is observed in the cluster now (live objects, reads): the status is
	// computed from it. in.Observed starts as a copy and takes each dry run's result, as
	// the reconciler's takes each apply's, for the nodes that render from them.
	now map[string]map[string]any
	in  render.Input
	res *render.Result
	// errs are the errors the reconciler would put in the status: refused applies.
	errs []string
	out  InstanceDiff
}

// instance diffs one instance.
func (x *differ) instance(ctx context.Context, inst *unstructured.Unstructured) InstanceDiff {
	p := &instancePass{inst: inst, out: InstanceDiff{Namespace: inst.GetNamespace(), Name: inst.GetName()}}
	// 1. Observe, as the reconciler does from its cache.
	p.owned, p.live = x.inv.observe(x.g, inst)
	p.now = observedOf(x.g, p.live)
	if err := x.reads.observe(ctx, x.g, inst, x.opts.Config, p.now); err != nil {
		p.out.Err = err
		return p.out
	}
	p.in = render.Input{Instance: inst.Object, Config: x.opts.Config, Observed: maps.Clone(p.now)}

	// 2. Render and dry-run in rounds, then what would be pruned.
	if err := x.converge(ctx, p); err != nil {
		p.out.Err = err
		return p.out
	}
	p.notes()

	// 3. The status the graph computes from what is observed now, with the refused
	// applies among its errors, against the instance's.
	rep, err := render.Status(ctx, x.g, render.Input{Instance: inst.Object, Config: x.opts.Config, Observed: p.now}, p.res,
		render.StatusOptions{Now: x.opts.Now(), Errors: p.errs})
	if err != nil {
		p.out.Err = err
		return p.out
	}
	old, _, _ := unstructured.NestedMap(inst.Object, "status")
	if rep.Status != nil && !reflect.DeepEqual(normalize(old), normalize(rep.Status)) {
		if p.out.Status, err = x.statusChanges(inst, old, rep.Status); err != nil {
			p.out.Err = err
		}
	}
	return p.out
}

// converge is the reconciler's converge with dry runs: render, dry-run every node rendered
// for the first time, render again while a node waits on one of them; nothing is applied
// or pruned when a node fails or the instance fails a check, and nothing pruned when an
// apply would fail. An error is one of the run's own (a request that failed).
func (x *differ) converge(ctx context.Context, p *instancePass) error {
	done := map[string]bool{}
	for round := 0; ; round++ {
		res, err := render.Render(ctx, x.g, p.in)
		if err != nil {
			p.res = &render.Result{}
			p.errs = append(p.errs, err.Error())
			p.out.Notes = append(p.out.Notes, "render: "+err.Error())
			return nil
		}
		p.res = res
		if res.Invalid || failed(res) || round > len(x.g.Nodes) {
			return nil
		}
		if x.unserved(p, res) {
			return nil // the reconciler applies nothing until the kinds are served
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
		refused := false
		for _, n := range units(batch) {
			done[n.ID] = true
			od, obj, err := x.object(ctx, p.inst, n, liveObject(x.g, p.live, n))
			if err != nil {
				return err
			}
			if od.Action != "" {
				p.out.Objects = append(p.out.Objects, od)
			}
			if od.Action == Refused {
				refused = true
				p.errs = append(p.errs, od.Error)
			}
			if obj != nil {
				setObserved(x.g, p.in.Observed, n.ID, obj.Object)
			}
		}
		if refused {
			return nil
		}
		if len(batch) == 0 || !waiting {
			for _, obj := range pruneable(x.g, res, p.in.Observed, p.owned) {
				p.out.Objects = append(p.out.Objects, ObjectDiff{Node: obj.GetLabels()[applied.LabelNode], Action: Pruned,
					Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()})
			}
			return nil
		}
	}
}

// unserved refuses every node of res that is not skipped and whose kind the API server
// does not serve, with the reconciler's error (kinds.go), and records the same error for
// such reads: the reconciler then applies and prunes nothing for the instance.
func (x *differ) unserved(p *instancePass, res *render.Result) bool {
	found := false
	for _, n := range res.Nodes {
		node, ok := x.g.Node(n.ID)
		if !ok || n.State == render.Skipped || x.served[node.Kind.GVK] {
			continue
		}
		found = true
		msg := (&unservedError{id: n.ID, kind: node.Kind}).Error()
		for _, u := range units([]render.Node{n}) {
			name, _, _ := unstructured.NestedString(u.Object, "metadata", "name")
			p.out.Objects = append(p.out.Objects, ObjectDiff{Node: n.ID, Action: Refused, Kind: node.Kind.GVK.Kind,
				Namespace: p.inst.GetNamespace(), Name: name, Error: msg})
		}
		p.errs = append(p.errs, msg)
	}
	for _, rd := range x.g.Reads {
		if st, ok := res.Reads[rd.ID]; ok && st != render.Skipped && !x.served[rd.Kind.GVK] {
			found = true
			msg := (&unservedError{id: rd.ID, kind: rd.Kind}).Error()
			p.out.Notes = append(p.out.Notes, msg)
			p.errs = append(p.errs, msg)
		}
	}
	return found
}

// notes records the nodes that render nothing and why, and the errors no node shows.
func (p *instancePass) notes() {
	for _, n := range p.res.Nodes {
		if n.State == render.Waiting || n.State == render.Error {
			p.out.Notes = append(p.out.Notes, fmt.Sprintf("%s: %s (%s)", n.ID, n.State, n.Reason))
		}
	}
	for _, e := range p.res.OtherErrors() {
		p.out.Notes = append(p.out.Notes, "error: "+e)
	}
}

// object decides, as the reconciler's applyNode and applier do, what applying one rendered
// node would do, and returns the object the apply would leave (nil when it would fail).
// An object that would stay as it is has an empty Action.
func (x *differ) object(ctx context.Context, inst *unstructured.Unstructured, n render.Node, live *unstructured.Unstructured) (ObjectDiff, *unstructured.Unstructured, error) {
	node, _ := x.g.Node(n.ID)
	desired, err := applied.Object(x.g, node, inst, n.Object)
	if err != nil {
		return ObjectDiff{Node: n.ID, Action: Refused, Error: err.Error()}, nil, nil
	}
	od := ObjectDiff{Node: n.ID, Kind: desired.GetKind(), Namespace: desired.GetNamespace(), Name: desired.GetName()}
	if live != nil && live.GetName() != desired.GetName() {
		live = nil // the template's name changed: the old object is pruned
	}
	if live == nil {
		existing, v, err := x.r.claim(ctx, inst, node, desired)
		var own *ownershipError
		switch {
		case errors.As(err, &own):
			od.Action, od.Error = Refused, err.Error()
			return od, nil, nil
		case err != nil:
			return od, nil, err
		case v == useAsIs:
			return ObjectDiff{}, existing, nil
		}
		live = existing
	}
	if x.r.applier.noop(desired, live, node.Shared) {
		return ObjectDiff{}, live, nil
	}
	ri, err := x.r.applier.resource(desired)
	if err != nil {
		return od, nil, err
	}
	out, _, err := x.r.applier.send(ctx, ri, desired, true)
	if field := immutableField(err); field != "" && live != nil {
		if node.Recreate {
			od.Action = Replaced
			od.Error = fmt.Sprintf("the API server refuses to change %s in place, and the resource allows recreate: loom would delete the object and create it again", field)
			return od, live, nil // observed as it is: replacing it is not pruning it too
		}
		od.Action, od.Error = Refused, (&immutableError{Kind: od.Kind, Name: od.Name, Node: n.ID, Field: field, Err: err}).Error()
		return od, nil, nil
	}
	switch {
	case err != nil && refusal(err):
		od.Action, od.Error = Refused, err.Error()
		return od, nil, nil
	case err != nil:
		return od, nil, err
	case live == nil:
		od.Action = Created
		return od, out, nil
	}
	if od.Fields, err = x.fieldChanges(live, out); err != nil {
		return od, nil, err
	}
	if len(od.Fields) == 0 {
		return ObjectDiff{}, out, nil // only loom's bookkeeping would change (intent, managed fields)
	}
	od.Action = Configured
	if ownedRaw(live) == nil {
		od.Action = Adopted
	}
	return od, out, nil
}

// refusal tells an apply the API server refuses for what it holds (the reconciler reports
// it in the status) from a failure of the request itself (the diff cannot go on).
func refusal(err error) bool {
	var held *heldError
	return errors.As(err, &held) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsConflict(err) || apierrors.IsRequestEntityTooLargeError(err)
}

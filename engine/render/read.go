package render

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/parse"
)

// Reads. The objects a graph reads come in through Input.Observed, by read id: the object
// for a read by name, and for a collection a List ({"items": [...]}, as `kubectl get -o
// yaml` prints one) that may hold more than the read selects: the render keeps the items in
// the read's namespace, with its labels, whose instanceKey includes the instance and that
// pass its filter, sorted by namespace, then name. A collection with no List observed is
// empty. A read by name with no object observed is Waiting, and so is every node that
// reads it (directly or through vars).

// readState holds the reads of one render, resolved before the nodes render.
type readState struct {
	values  map[string]any // what scope resolves: an object, or a list of objects
	waiting map[string]string
}

func (s *readState) valueMap() map[string]any {
	if s == nil {
		return nil
	}
	return s.values
}

// resolveReads resolves every read of g for the render, before the checks (which may read
// collections through vars). A read's outcome is a state like a node's, so that nodes
// reading a skipped or failed read are skipped or fail too.
func (r *evaluator) resolveReads(g *graph.Graph, in Input, res *Result) map[string]State {
	states := make(map[string]State, len(g.Reads))
	namespace, _ := nested(in.Instance, "metadata", "namespace").(string)
	for _, rd := range g.Reads {
		st, reason := r.resolveRead(rd, in, namespace)
		states[rd.ID] = st
		switch st {
		case Error:
			res.Errors = append(res.Errors, reason)
		case Waiting:
			res.reads.waiting[rd.ID] = reason
		}
	}
	return states
}

func (r *evaluator) resolveRead(rd *graph.Read, in Input, namespace string) (State, string) {
	for _, e := range rd.IncludeWhen {
		ok, err := r.boolean(e)
		if err != nil {
			return Error, err.Error()
		}
		if !ok {
			return Skipped, "includeWhen ${" + e.Source + "} is false"
		}
	}
	ns := rd.Namespace
	if ns == "" && rd.Kind.Namespaced {
		ns = namespace
	}
	obs := in.Observed[rd.ID]
	if !rd.Collection() {
		v, _, err := r.eval(rd.Name)
		if err != nil {
			return Error, err.Error()
		}
		name, _ := v.(string)
		if obs == nil {
			what := rd.Kind.GVK.Kind + " " + name
			if rd.Kind.Namespaced {
				what = rd.Kind.GVK.Kind + " " + ns + "/" + name
			}
			return Waiting, "waiting for " + rd.ID + " (" + what + ") to exist"
		}
		r.scope.reads[rd.ID] = obs
		return Rendered, ""
	}
	raw, _ := obs["items"].([]any)
	name, _ := nested(in.Instance, "metadata", "name").(string)
	key := graph.InstanceKey(namespace, name)
	var kept []map[string]any
	for _, it := range raw {
		item, ok := it.(map[string]any)
		if !ok || !selected(rd, item, ns) {
			continue
		}
		if rd.InstanceKey != nil {
			keys, err := ReadKeys(r.ctx, rd, item)
			if err != nil {
				return Error, err.Error()
			}
			if !contains(keys, key) {
				continue
			}
		}
		kept = append(kept, item)
	}
	if len(kept) > rd.MaxItems {
		return Error, fmt.Sprintf("resource %s: %d %s objects selected, more than the read's limit of %d (read.maxItems)", rd.ID, len(kept), rd.Kind.GVK.Kind, rd.MaxItems)
	}
	sort.Slice(kept, func(i, j int) bool {
		ni, nj := metaString(kept[i], "namespace"), metaString(kept[j], "namespace")
		if ni != nj {
			return ni < nj
		}
		return metaString(kept[i], "name") < metaString(kept[j], "name")
	})
	list := make([]any, 0, len(kept))
	for _, item := range kept {
		if rd.Filter != nil {
			ok, err := r.itemBool(rd.Filter, item)
			if err != nil {
				return Error, err.Error()
			}
			if !ok {
				continue
			}
		}
		list = append(list, item)
	}
	r.scope.reads[rd.ID] = list
	return Rendered, ""
}

// selected applies a collection's namespace and labels to one item.
func selected(rd *graph.Read, item map[string]any, ns string) bool {
	if rd.Kind.Namespaced && ns != parse.AllNamespaces && metaString(item, "namespace") != ns {
		return false
	}
	labels, _ := nested(item, "metadata", "labels").(map[string]any)
	for k, v := range rd.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// itemBool evaluates a filter with item bound to one item of the collection.
func (r *evaluator) itemBool(e *graph.Expr, item map[string]any) (bool, error) {
	v, err := e.Eval(r.ctx, &itemScope{Activation: r.scope, item: item}, r.budget)
	if err != nil {
		return false, &EvalError{Expr: e, Err: err}
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, &EvalError{Expr: e, Err: fmt.Errorf("expected a bool, got %s", v.Type())}
	}
	return bool(b), nil
}

// ReadKeys evaluates a collection's instanceKey on one item: the keys (namespace/name) of
// the instances that read it. The controller indexes its cache with it. A read without
// instanceKey has no keys.
func ReadKeys(ctx context.Context, rd *graph.Read, item map[string]any) ([]string, error) {
	if rd.InstanceKey == nil {
		return nil, nil
	}
	v, err := rd.InstanceKey.Eval(ctx, &itemScope{Activation: interpreter.EmptyActivation(), item: item}, nil)
	if err != nil {
		return nil, &EvalError{Expr: rd.InstanceKey, Err: err}
	}
	switch x := v.(type) {
	case types.String:
		return []string{string(x)}, nil
	case types.Null:
		return nil, nil
	}
	out, _, err := cel.ToJSON(v)
	keys, _ := out.([]any)
	if err != nil || (out != nil && keys == nil) {
		return nil, &EvalError{Expr: rd.InstanceKey, Err: fmt.Errorf("expected a string or a list of strings, got %s", v.Type())}
	}
	strs := make([]string, 0, len(keys))
	for _, k := range keys {
		s, ok := k.(string)
		if !ok {
			return nil, &EvalError{Expr: rd.InstanceKey, Err: fmt.Errorf("expected a list of strings, got an item %v", k)}
		}
		strs = append(strs, s)
	}
	return strs, nil
}

// itemScope adds item to an activation.
type itemScope struct {
	interpreter.Activation
	item map[string]any
}

func (s *itemScope) ResolveName(name string) (any, bool) {
	if name == graph.ItemVar {
		return s.item, true
	}
	return s.Activation.ResolveName(name)
}

// present reports whether a node's dependency d has data: an observed object, or a
// resolved read.
func (r *evaluator) present(d string) bool {
	if _, ok := r.scope.reads[d]; ok {
		return true
	}
	return r.scope.observed[d] != nil
}

// waitingFor says what a node waits for.
func (r *evaluator) waitingFor(d string) string {
	if reason, ok := r.vars.res.reads.waiting[d]; ok {
		return reason
	}
	return "waiting for " + d + " to be observed"
}

// pendingRead is the error of an expression reading a read that is not there.
func (r *evaluator) pendingRead(e *graph.Expr, id string) error {
	reason := r.vars.res.reads.waiting[id]
	if reason == "" {
		reason = id + " is not observed yet"
	}
	return &EvalError{Expr: e, Err: fmt.Errorf("%w: %s", ErrPending, reason)}
}

func metaString(obj map[string]any, key string) string {
	s, _ := nested(obj, "metadata", key).(string)
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ interpreter.Activation = (*itemScope)(nil)

// Target is the object a read by name reads for one instance.
type Target struct {
	Namespace, Name string
}

// ReadTargets evaluates, for one instance, the name and namespace of every read by name that
// is not skipped: what the controller fetches before it renders. Reads whose includeWhen is
// false or whose name fails are left out (the render reports them).
func ReadTargets(ctx context.Context, g *graph.Graph, in Input) (map[string]Target, error) {
	cfg, err := g.ConfigValues(in.Config)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Budget: &cel.Budget{Remaining: g.CostBudget}}
	res.vars = &varState{graph: g, values: map[string]any{}, errs: map[string]error{}, res: res}
	res.Vars = res.vars.values
	res.reads = &readState{values: map[string]any{}, waiting: map[string]string{}}
	r := &evaluator{ctx: ctx, budget: res.Budget, vars: res.vars,
		scope: &scope{instance: in.Instance, config: cfg, vars: res.Vars, observed: in.Observed, reads: res.reads.values}}
	r.scope.defaulted = &defaultedView{graph: g, instance: in.Instance}
	r.scope.computeVar = r.readVar
	namespace, _ := nested(in.Instance, "metadata", "namespace").(string)
	out := map[string]Target{}
outer:
	for _, rd := range g.Reads {
		if rd.Collection() {
			continue
		}
		for _, e := range rd.IncludeWhen {
			if ok, err := r.boolean(e); err != nil || !ok {
				continue outer
			}
		}
		v, _, err := r.eval(rd.Name)
		name, _ := v.(string)
		if err != nil || name == "" {
			continue
		}
		ns := rd.Namespace
		if ns == "" && rd.Kind.Namespaced {
			ns = namespace
		}
		if !rd.Kind.Namespaced {
			ns = ""
		}
		out[rd.ID] = Target{Namespace: ns, Name: name}
	}
	return out, nil
}

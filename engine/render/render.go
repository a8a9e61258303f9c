package render

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/parse"
)

// Input is everything a render reads.
type Input struct {
	// Instance is the object the graph expands, as the API server returns it (defaults
	// applied).
	Instance map[string]any
	// Config is the operator configuration; missing keys take the graph's defaults.
	Config map[string]any
	// Observed holds the objects last seen in the cluster, by node id. A collection's
	// objects come as a List ({"items": [...]}), in any order (collection.go).
	Observed map[string]map[string]any
	// Validate checks every rendered object as the API server would on apply
	// (schema.Set.Admit: its kind's schema, and for a CRD kind its CEL rules); an object it
	// would refuse puts its node in Error. The CLI and the golden tests turn it on to fail
	// early; the operator leaves it to the API server.
	Validate bool
}

// State is what happened to one node.
type State string

const (
	// Rendered: the desired object is in Node.Object.
	Rendered State = "Rendered"
	// Skipped: an includeWhen was false, or a node it reads was skipped. Its object, if
	// one exists, should be pruned.
	Skipped State = "Skipped"
	// Waiting: it reads an object that has not been observed yet.
	Waiting State = "Waiting"
	// Error: an expression failed, or a check on the instance did. Its object, if one
	// exists, must be left as it is.
	Error State = "Error"
)

// Node is the outcome for one node of the graph.
type Node struct {
	ID     string
	State  State
	Object map[string]any // Rendered only
	// Items are a collection's objects, one per item in item order (Rendered only); its
	// Object is nil.
	Items  []map[string]any
	Reason string // why, for every state but Rendered
}

// Result is the outcome of one render.
type Result struct {
	// Nodes in the graph's order.
	Nodes []Node
	// Reads holds the state of each read, by id: Skipped when its includeWhen is false,
	// Waiting for an absent object read by name, Error when it failed, Rendered
	// otherwise. The controller uses it to know which reads an instance needs.
	Reads map[string]State
	// Invalid is set when a check on the instance failed: nothing was rendered.
	Invalid bool
	// Errors are what a person should read: failed checks (field: message) and evaluation
	// errors. Status expressions see them as `errors`.
	Errors []string
	// Vars holds the vars evaluated so far; status evaluation computes the others it reads.
	Vars map[string]any
	// Config is the completed configuration.
	Config map[string]any
	// Budget is what is left of the render's CEL cost budget; status evaluation spends
	// from it too.
	Budget *cel.Budget

	vars  *varState
	reads *readState

	// defaulted is the `defaulted` variable, shared with the status evaluation.
	defaulted *defaultedView
}

// varState is the vars of one render, each computed when an expression first reads it.
type varState struct {
	graph  *graph.Graph
	values map[string]any // what scope.vars resolves
	errs   map[string]error
	absent map[string]bool // vars computed to null; made when the first is
	res    *Result         // var errors are the render's errors
}

// done reports whether name was computed, and its error.
func (vs *varState) done(name string) (bool, error) {
	if _, ok := vs.values[name]; ok {
		return true, nil
	}
	if err, failed := vs.errs[name]; failed {
		return true, err
	}
	return vs.absent[name], nil
}

func (vs *varState) setAbsent(name string) {
	if vs.absent == nil {
		vs.absent = map[string]bool{}
	}
	vs.absent[name] = true
}

// Node returns the result for id.
func (r *Result) Node(id string) (Node, bool) {
	for _, n := range r.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// OtherErrors are the render's errors that no node's reason shows: a var that failed, a
// check, a status expression.
func (r *Result) OtherErrors(more ...string) []string {
	shown := make(map[string]bool, len(r.Nodes))
	for _, n := range r.Nodes {
		if n.State != Rendered {
			shown[n.Reason] = true
		}
	}
	var out []string
	for _, list := range [][]string{r.Errors, more} {
		for _, e := range list {
			if !shown[e] {
				out = append(out, e)
			}
		}
	}
	return out
}

// EvalError is an expression that failed at render time.
type EvalError struct {
	Expr *graph.Expr
	Err  error
}

func (e *EvalError) Error() string {
	where := e.Expr.Owner
	if e.Expr.Path != "" {
		where += ", field " + e.Expr.Path
	}
	return fmt.Sprintf("%s: %s: ${%s}: %v", e.Expr.Pos, where, e.Expr.Source, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// Render computes the desired objects of g for in. The returned error is for problems
// with the input itself (a bad config); problems with expressions land in the Result.
//
// A render, with its status, stops at g.RenderTimeout after it started
// (graph.DefaultRenderTimeout unless the graph was loaded with another), or when ctx is
// done, whichever comes first: the loop running then fails with ErrDeadline or the
// context's error, and so does every expression with a loop after it (one without is
// bounded by its cost alone). The deadline rides in the render's CEL budget, which the
// meter checks every 64 loop steps, rather than in a context: no timer per render.
func Render(ctx context.Context, g *graph.Graph, in Input) (*Result, error) {
	cfg, err := g.ConfigValues(in.Config)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Budget: &cel.Budget{Remaining: g.CostBudget}, Nodes: make([]Node, 0, len(g.Nodes))}
	if g.RenderTimeout > 0 {
		res.Budget.Deadline = time.Now().Add(g.RenderTimeout)
	}
	// 1. Vars are computed when an expression first reads them, so that a var only
	// skipped nodes, or branches not taken, read costs nothing. A failed var fails
	// whatever reads it.
	res.vars = &varState{
		graph:  g,
		values: make(map[string]any, len(g.Vars)),
		errs:   map[string]error{},
		res:    res,
	}
	res.Vars = res.vars.values
	res.reads = &readState{values: map[string]any{}, waiting: map[string]string{}}
	r := &evaluator{
		ctx:    ctx,
		budget: res.Budget,
		scope: &scope{
			instance: in.Instance,
			config:   cfg,
			vars:     res.Vars,
			observed: withoutCollections(g, in.Observed),
			reads:    res.reads.values,
		},
		vars: res.vars,
	}
	r.scope.computeVar = r.readVar
	res.defaulted = &defaultedView{graph: g, instance: in.Instance}
	r.scope.defaulted = res.defaulted

	readStates := r.resolveReads(g, in, res)
	res.Reads = readStates

	// 2. Checks: a failed one means the instance cannot work; render nothing.
	for _, c := range g.Checks {
		errs := r.check(c)
		res.Errors = append(res.Errors, errs...)
		res.Invalid = res.Invalid || len(errs) > 0
	}
	if res.Invalid {
		for _, n := range g.Nodes {
			res.Nodes = append(res.Nodes, Node{ID: n.ID, State: Error, Reason: "the instance failed a check: " + strings.Join(res.Errors, "; ")})
		}
		return res, nil
	}

	// 3. Nodes in dependency order.
	states := make(map[string]State, len(g.Nodes))
	namespace, _ := nested(in.Instance, "metadata", "namespace").(string)
	for id, st := range readStates {
		states[id] = st
	}
	for _, n := range g.Nodes {
		out := r.node(n, states, namespace, in, g)
		states[n.ID] = out.State
		if out.State == Error {
			res.Errors = append(res.Errors, out.Reason)
		}
		res.Nodes = append(res.Nodes, out)
	}
	return res, nil
}

// evaluator evaluates compiled expressions and trees over one render's scope. Render uses
// one for the desired objects; statusEvaluator makes one for readiness and status.
type evaluator struct {
	ctx    context.Context
	budget *cel.Budget
	scope  *scope
	vars   *varState
	// fieldError, when set, decides what a failed map field does: true leaves the field
	// out and goes on. Status uses it so that one pending field does not sink the rest.
	fieldError func(error) bool
}

// statusEvaluator returns an evaluator over everything status expressions see: the
// render's scope plus ready.<id> and errors. fieldError decides, for each map field that
// fails, whether to leave it out and go on (true) or fail the whole tree.
func statusEvaluator(ctx context.Context, g *graph.Graph, in Input, res *Result, ready map[string]bool, errs []string, fieldError func(error) bool) *evaluator {
	ev := &evaluator{
		ctx:    ctx,
		budget: res.Budget,
		scope: &scope{
			instance: in.Instance,
			config:   res.Config,
			vars:     res.Vars,
			observed: withoutCollections(g, in.Observed),
			reads:    res.reads.valueMap(),
			ready:    ready,
			errors:   errs,
			status:   true,
		},
		vars:       res.vars,
		fieldError: fieldError,
	}
	ev.scope.defaulted = res.defaulted
	ev.scope.computeVar = ev.readVar
	return ev
}

func (r *evaluator) node(n *graph.Node, states map[string]State, namespace string, in Input, g *graph.Graph) Node {
	out := Node{ID: n.ID}
	for _, d := range n.Deps {
		switch states[d] {
		case Skipped:
			out.State, out.Reason = Skipped, "reads "+d+", which is skipped"
			return out
		case Error:
			out.State, out.Reason = Error, "reads "+d+", which failed"
			return out
		}
	}
	for _, d := range n.Deps {
		if !r.present(d) {
			out.State, out.Reason = Waiting, r.waitingFor(d)
			return out
		}
	}
	for _, e := range n.IncludeWhen {
		ok, err := r.boolean(e)
		if err != nil {
			out.State, out.Reason = Error, err.Error()
			return out
		}
		if !ok {
			out.State, out.Reason = Skipped, "includeWhen ${"+e.Source+"} is false"
			return out
		}
	}
	if n.Collection() {
		return r.collection(n, out, namespace, in, g)
	}
	obj, err := r.object(n, namespace, in, g)
	if err != nil {
		out.State, out.Reason = Error, err.Error()
		return out
	}
	out.State, out.Object = Rendered, obj
	return out
}

// object renders n's template into the object to apply, in namespace.
func (r *evaluator) object(n *graph.Node, namespace string, in Input, g *graph.Graph) (map[string]any, error) {
	v, _, err := r.eval(n.Template)
	if err != nil {
		return nil, err
	}
	obj, _ := v.(map[string]any)
	if n.Kind.Namespaced {
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		meta["namespace"] = namespace
	}
	if in.Validate {
		if err := g.Schemas.Admit(r.ctx, obj); err != nil {
			return nil, fmt.Errorf("resource %s: the rendered object %v", n.ID, err)
		}
	}
	return obj, nil
}

// readVar is the scope's computeVar: the value of a var an expression reads, computed the
// first time. A var that fails, or waits for an object not observed yet, fails the reading
// expression the same way, through a CEL error (cel-go unwraps it from the activation).
func (r *evaluator) readVar(name string) (any, bool) {
	if err := r.ensureVar(name); errors.Is(err, ErrPending) {
		return types.WrapErr(fmt.Errorf("%w: vars.%s reads an object not observed yet", ErrPending, name)), true
	} else if err != nil {
		return types.WrapErr(fmt.Errorf("reads vars.%s, which failed", name)), true
	}
	v, ok := r.vars.values[name]
	return v, ok
}

// ensureVar computes a var the first time it is read.
func (r *evaluator) ensureVar(name string) error {
	vs := r.vars
	if done, err := vs.done(name); done {
		return err
	}
	v, ok := vs.graph.Var(name)
	if !ok {
		vs.setAbsent(name)
		return fmt.Errorf("no var %q", name)
	}
	val, present, err := r.varValue(v.Value)
	switch {
	case err != nil:
		vs.errs[name] = err
		if !errors.Is(err, ErrPending) { // a var reading a read that is not there waits
			vs.res.Errors = append(vs.res.Errors, err.Error())
		}
		return err
	case present:
		vs.values[name] = val
	default:
		vs.setAbsent(name)
	}
	return nil
}

// varValue evaluates a var. Vars that are one expression keep their CEL value, so that an
// optional stays optional for the expressions that read it.
func (r *evaluator) varValue(t *graph.Tree) (any, bool, error) {
	if t.Kind == parse.Expr && t.Expr != nil {
		v, err := r.run(t.Expr)
		if err != nil {
			return nil, false, err
		}
		if err := t.Expr.Keep(v, r.budget); err != nil {
			return nil, false, &EvalError{Expr: t.Expr, Err: err}
		}
		if v == types.NullValue {
			return nil, false, nil
		}
		return v, true, nil
	}
	return r.eval(t)
}

// eval computes a template value: (JSON value, present, error). A value that is not
// present is left out of its parent.
func (r *evaluator) eval(t *graph.Tree) (any, bool, error) {
	if t.Static {
		return cel.CopyJSON(t.Value), t.Value != nil, nil
	}
	switch t.Kind {
	case parse.Expr:
		v, err := r.value(t.Expr)
		if err != nil {
			return nil, false, err
		}
		out, present, err := cel.LookupJSON(v)
		if err != nil {
			return nil, false, &EvalError{Expr: t.Expr, Err: err}
		}
		return out, present, nil
	case parse.Template:
		var b strings.Builder
		for _, p := range t.Parts {
			if p.Expr == nil {
				b.WriteString(p.Lit)
				continue
			}
			v, err := r.value(p.Expr)
			if err != nil {
				return nil, false, err
			}
			s, isString := v.(string)
			if !isString {
				s, err = format(celValue(v))
			}
			if err != nil {
				return nil, false, &EvalError{Expr: p.Expr, Err: err}
			}
			b.WriteString(s)
		}
		return b.String(), true, nil
	case parse.Map:
		m := make(map[string]any, len(t.Keys))
		for i, k := range t.Keys {
			v, present, err := r.eval(t.Fields[i])
			if err != nil {
				if r.fieldError != nil && r.fieldError(err) {
					continue
				}
				return nil, false, err
			}
			if present {
				m[k] = v
			}
		}
		return m, true, nil
	case parse.List:
		l := make([]any, 0, len(t.Items))
		for _, it := range t.Items {
			v, present, err := r.eval(it)
			if err != nil {
				return nil, false, err
			}
			if present {
				l = append(l, v)
			}
		}
		return l, true, nil
	}
	return cel.CopyJSON(t.Value), t.Value != nil, nil
}

func (r *evaluator) boolean(e *graph.Expr) (bool, error) {
	native, err := r.value(e)
	if err != nil {
		return false, err
	}
	if b, ok := native.(bool); ok {
		return b, nil
	}
	v := celValue(native)
	b, ok := v.(types.Bool)
	if !ok {
		return false, &EvalError{Expr: e, Err: fmt.Errorf("expected a bool, got %s", v.Type())}
	}
	return bool(b), nil
}

// ErrDeadline is the error of an expression stopped by its graph's RenderTimeout.
var ErrDeadline = cel.ErrDeadline

// ErrPending marks an expression that reads an object not observed yet.
var ErrPending = errors.New("waiting for data")

func (r *evaluator) run(e *graph.Expr) (ref.Val, error) {
	if err := r.prepare(e); err != nil {
		return nil, err
	}
	return r.evalCEL(e)
}

// value is run for a caller that takes native JSON values too: an expression that only
// selects fields of a variable gives the value found there (cel.Program.Lookup), any
// other a CEL value.
func (r *evaluator) value(e *graph.Expr) (any, error) {
	if err := r.prepare(e); err != nil {
		return nil, err
	}
	v, ok, err := e.Lookup(r.ctx, r.scope, r.budget)
	switch {
	case err != nil:
		return nil, &EvalError{Expr: e, Err: err}
	case ok:
		return v, nil
	}
	return r.evalCEL(e)
}

// celValue is the CEL value of what value returned, as CEL itself converts a native one.
func celValue(v any) ref.Val {
	if x, ok := v.(ref.Val); ok {
		return x
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// prepare fails when e reads an object not observed yet. The vars e reads are computed as
// it reads them (readVar), so a var in a branch not taken costs nothing.
func (r *evaluator) prepare(e *graph.Expr) error {
	for _, ref := range e.Objects {
		if _, read := r.scope.reads[ref]; !read && r.scope.observed[ref] == nil {
			return &EvalError{Expr: e, Err: fmt.Errorf("%w: %s is not observed yet", ErrPending, ref)}
		}
	}
	return nil
}

func (r *evaluator) evalCEL(e *graph.Expr) (ref.Val, error) {
	v, err := e.Eval(r.ctx, r.scope, r.budget)
	if err != nil {
		return nil, &EvalError{Expr: e, Err: err}
	}
	return v, nil
}

// format prints one value embedded in a string template.
func format(v ref.Val) (string, error) {
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Int:
		return strconv.FormatInt(int64(x), 10), nil
	case types.Uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case types.Double:
		return strconv.FormatFloat(float64(x), 'f', -1, 64), nil
	case types.Bool:
		return strconv.FormatBool(bool(x)), nil
	case types.Null:
		return "", nil
	}
	return "", fmt.Errorf("cannot embed a %s in a string", v.Type())
}

func nested(obj map[string]any, keys ...string) any {
	var cur any = obj
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

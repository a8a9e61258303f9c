package graph

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	apiservercel "k8s.io/apiserver/pkg/cel"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
	"github.com/loom-mcp/loom/engine/schema"
)

// DefaultCostBudget bounds the CEL cost of one render and its status together: room for a
// hundred expressions at their full per-expression limit.
const DefaultCostBudget = 100 * cel.DefaultCostLimit

// DefaultRenderTimeout bounds one render, and one status evaluation: a render of the
// MCPServer graph takes well under a millisecond, so a render still running after seconds
// is working through hostile input, and stops with an error naming the expression.
const DefaultRenderTimeout = 5 * time.Second

type options struct {
	schemas       *schema.Set
	costLimit     uint64
	costBudget    uint64
	renderTimeout time.Duration
}

// Option configures Load.
type Option func(*options)

// WithSchemas types the graph with s (built-in kinds plus the CRDs added to it). Without
// it, Load uses the built-in kinds only, and the instance kind must then be built in.
func WithSchemas(s *schema.Set) Option { return func(o *options) { o.schemas = s } }

// WithCostLimit sets the CEL cost limit of one evaluation of one expression.
func WithCostLimit(n uint64) Option { return func(o *options) { o.costLimit = n } }

// WithCostBudget sets the CEL cost one render (with its status) may spend in all.
func WithCostBudget(n uint64) Option { return func(o *options) { o.costBudget = n } }

// WithRenderTimeout sets how long one render, and one status evaluation, may take.
func WithRenderTimeout(d time.Duration) Option { return func(o *options) { o.renderTimeout = d } }

// Load parses, type-checks and compiles a ResourceGraph. file names it in errors. Every
// problem found is returned at once, as Errors.
func Load(file string, data []byte, opts ...Option) (*Graph, error) {
	o := options{costLimit: cel.DefaultCostLimit, costBudget: DefaultCostBudget, renderTimeout: DefaultRenderTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.schemas == nil {
		s, err := schema.Builtin()
		if err != nil {
			return nil, err
		}
		o.schemas = s
	}
	pg, err := parse.Parse(file, data)
	if err != nil {
		var pl parse.ErrorList
		if errors.As(err, &pl) {
			out := make(Errors, len(pl))
			for i, e := range pl {
				out[i] = e
			}
			return nil, out
		}
		return nil, err
	}
	l := &loader{pg: pg, schemas: o.schemas, readRes: splitReads(pg), costLimit: o.costLimit}
	g := l.load(o)
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return g, nil
}

type loader struct {
	pg      *parse.Graph
	schemas *schema.Set
	errs    Errors
	ids     map[string]bool

	// Reads (read.go): the resources that read, their kinds by id, and the reads each var
	// needs.
	readRes   []parse.Resource
	readIDs   map[string]*schema.Kind
	varReads  map[string][]string
	costLimit uint64

	// statusVars names, for each status var, the status-phase name it reads
	// (statusvars.go).
	statusVars map[string]string
}

func (l *loader) errorf(pos parse.Pos, owner, path, expr, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: pos, Owner: owner, Path: path, Expr: expr, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) load(o options) *Graph {
	pg := l.pg
	g := &Graph{Name: pg.Name, File: pg.File, Config: pg.Config, Schemas: l.schemas, CostBudget: o.costBudget, RenderTimeout: o.renderTimeout}

	// 1. Kinds: the instance's and each resource's, from the schemas.
	inst, kinds := l.kinds()
	if len(l.errs) > 0 {
		return g
	}
	g.Instance = inst

	// 2. The environment: schema, config, and each resource id typed as its kind.
	env, err := l.env(inst, kinds, o.costLimit)
	if err != nil {
		l.errorf(parse.Pos{File: pg.File, Line: 1, Col: 1}, "", "", "", "%v", err)
		return g
	}

	// 3. Vars, each after the vars it reads, each typed by its value. They are compiled
	// where the status phase's names are declared too (a var that reads one is a status
	// var); everything but status is compiled where they are not.
	senv, err := l.statusEnv(env)
	if err != nil {
		l.errorf(parse.Pos{File: pg.File, Line: 1, Col: 1}, "", "", "", "%v", err)
		return g
	}
	senv, g.Vars = l.vars(senv)
	if env, err = declareVars(env, g.Vars); err != nil {
		l.errorf(parse.Pos{File: pg.File, Line: 1, Col: 1}, "", "", "", "%v", err)
		return g
	}
	g.vars = make(map[string]*Var, len(g.Vars))
	for _, v := range g.Vars {
		g.vars[v.Name] = v
	}
	g.Reads = l.reads(env, g)

	// 4. Checks.
	for i, c := range pg.Checks {
		if ch := l.check(env, c, fmt.Sprintf("checks[%d]", i)); ch != nil {
			g.Checks = append(g.Checks, ch)
		}
	}

	// 5. Resources, then their order.
	g.Nodes = l.nodes(env, kinds)

	// 6. Status, which also sees ready.<id>, errors, allReady, anyReady and status vars.
	if pg.Status != nil {
		g.Status = l.status(senv, inst)
	}
	l.statusVarsInStatusOnly(g)
	return g
}

// kinds finds the instance's kind and each resource's; errors land in l.errs.
func (l *loader) kinds() (*schema.Kind, []*schema.Kind) {
	pg := l.pg
	inst, err := l.kind(pg.Instance.APIVersion, pg.Instance.Kind)
	if err != nil {
		l.errorf(pg.Instance.Pos, "", "spec.instance", "", "%v", err)
		return nil, nil
	}
	kinds := make([]*schema.Kind, len(pg.Resources))
	l.ids = map[string]bool{}
	for i, r := range pg.Resources {
		l.ids[r.ID] = true
		kinds[i] = l.resourceKind(r, inst.Namespaced)
	}
	return inst, kinds
}

// env is the CEL environment every expression of the graph is compiled in.
func (l *loader) env(inst *schema.Kind, kinds []*schema.Kind, costLimit uint64) (*cel.Env, error) {
	configType := l.configType()
	declTypes := []*apiservercel.DeclType{inst.Type, configType}
	seen := map[*apiservercel.DeclType]bool{inst.Type: true}
	vars := []cel.Variable{
		{Name: parse.NameSchema, Type: inst.Type.CelType()},
		{Name: parse.NameDefaulted, Type: inst.Type.CelType()},
		{Name: parse.NameConfig, Type: configType.CelType()},
	}
	for i, r := range l.pg.Resources {
		if !seen[kinds[i].Type] {
			seen[kinds[i].Type] = true
			declTypes = append(declTypes, kinds[i].Type)
		}
		vars = append(vars, cel.Variable{Name: r.ID, Type: observedType(r, kinds[i])})
	}
	declTypes, vars = l.readKinds(declTypes, vars, seen, inst.Namespaced)
	env, err := cel.NewEnv(declTypes, vars, costLimit)
	if err != nil {
		return nil, err
	}
	return l.functions(env), nil
}

// functions defines the graph's functions in env, each in the environment of those above
// it; one that fails is left out, and its callers fail as calls to an unknown function.
func (l *loader) functions(env *cel.Env) *cel.Env {
	for _, f := range l.pg.Functions {
		next, err := env.Define(cel.Function{Name: f.Name, Params: f.Params, Body: f.Body.Text})
		if err != nil {
			l.errorf(f.Body.Pos, "function "+f.Name, "", f.Body.Text, "%s", explain(env, err, l.ids))
			continue
		}
		env = next
	}
	return env
}

// nodes compiles every resource and orders them by the references between them; a cycle is
// an error on its first resource.
func (l *loader) nodes(env *cel.Env, kinds []*schema.Kind) []*Node {
	pg := l.pg
	nodes := map[string]*Node{}
	names := make([]string, len(pg.Resources))
	deps := map[string][]string{}
	for i, r := range pg.Resources {
		n := l.node(env, r, kinds[i], i)
		nodes[r.ID] = n
		names[i] = r.ID
		deps[r.ID] = n.Deps
	}
	ordered, err := order(names, deps)
	if err != nil {
		var ce *CycleError
		if errors.As(err, &ce) {
			first := pg.Resources[indexOf(names, ce.Cycle[0])]
			l.errorf(first.Pos, "resource "+ce.Cycle[0], "", "", "%v: each resource reads the observed object of the next", err)
		}
		return nil
	}
	out := make([]*Node, 0, len(ordered))
	for _, id := range ordered {
		out = append(out, nodes[id])
	}
	return out
}

// status compiles the status tree in senv, the environment of the status phase.
func (l *loader) status(senv *cel.Env, inst *schema.Kind) *Tree {
	var target *apiservercel.DeclType
	if f, ok := inst.Type.FindField("status"); ok {
		target = f.Type
	}
	return l.tree(senv, l.pg.Status, target, "status", "")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return 0
}

func (l *loader) kind(apiVersion, kind string) (*schema.Kind, error) {
	gv, err := k8sschema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %v", apiVersion, err)
	}
	return l.schemas.Kind(gv.WithKind(kind))
}

// resourceKind reads a template's apiVersion and kind, which must be literal, and checks
// the parts of metadata the engine manages.
func (l *loader) resourceKind(r parse.Resource, instanceNamespaced bool) *schema.Kind {
	owner := "resource " + r.ID
	if r.Template == nil || r.Template.Kind != parse.Map {
		return nil
	}
	lits := map[string]string{}
	var meta *parse.Value
	for _, f := range r.Template.Fields {
		switch f.Key {
		case "apiVersion", "kind":
			s, ok := f.Value.Scalar.(string)
			if f.Value.Kind != parse.Literal || !ok {
				l.errorf(f.Value.Pos, owner, f.Key, "", "%s must be a literal string: the kind of a resource is fixed when the graph loads", f.Key)
				continue
			}
			lits[f.Key] = s
		case "metadata":
			meta = f.Value
		}
	}
	if lits["apiVersion"] == "" || lits["kind"] == "" {
		l.errorf(r.Template.Pos, owner, "", "", "the template needs apiVersion and kind")
		return nil
	}
	k, err := l.kind(lits["apiVersion"], lits["kind"])
	if err != nil {
		l.errorf(r.Template.Pos, owner, "", "", "%v", err)
		return nil
	}
	hasName := false
	if meta != nil && meta.Kind == parse.Map {
		for _, f := range meta.Fields {
			switch f.Key {
			case "name":
				hasName = true
			case "namespace":
				l.errorf(f.Pos, owner, "metadata.namespace", "", "remove it: namespaced objects always land in the instance's namespace")
			}
		}
	}
	if !hasName {
		l.errorf(r.Template.Pos, owner, "metadata.name", "", "the template needs metadata.name")
	}
	if instanceNamespaced && !k.Namespaced {
		l.errorf(r.Template.Pos, owner, "", "", "%s is cluster-scoped: a namespaced instance cannot own it", lits["kind"])
	}
	return k
}

func (l *loader) configType() *apiservercel.DeclType {
	fields := map[string]*apiservercel.DeclField{}
	for _, c := range l.pg.Config {
		t := apiservercel.StringType
		switch c.Type {
		case "boolean":
			t = apiservercel.BoolType
		case "integer":
			t = apiservercel.IntType
		}
		fields[c.Name] = apiservercel.NewDeclField(c.Name, t, true, nil, nil)
	}
	return apiservercel.NewObjectType("loom.config", fields)
}

// vars compiles the vars in dependency order and returns the environment that declares
// them all.
func (l *loader) vars(env *cel.Env) (*cel.Env, []*Var) {
	pv := l.pg.Vars
	byName := map[string]parse.Var{}
	names := make([]string, len(pv))
	deps := map[string][]string{}
	for i, v := range pv {
		byName[v.Name] = v
		names[i] = v.Name
		for _, src := range sources(v.Value) {
			refs, err := env.Parse(src.Text)
			if err != nil {
				continue // reported with its position when the var is compiled
			}
			for _, r := range refs {
				if name, ok := strings.CutPrefix(r, parse.NameVars+"."); ok && !strings.Contains(name, ".") {
					deps[v.Name] = append(deps[v.Name], name)
				}
			}
		}
	}
	ordered, err := order(names, deps)
	if err != nil {
		var ce *CycleError
		errors.As(err, &ce)
		v := byName[ce.Cycle[0]]
		l.errorf(v.Pos, parse.NameVars+"."+v.Name, "", "", "%v", err)
		return env, nil
	}
	var out []*Var
	for _, name := range ordered {
		v := byName[name]
		t := l.tree(env, v.Value, nil, parse.NameVars+"."+name, "")
		status := l.markStatusVar(name, t)
		for _, e := range exprs(t) {
			if !status {
				l.noResourceRefs(e, "vars are computed before any object is observed; read observed objects in templates, readyWhen or status")
			}
		}
		next, err := env.Extend(cel.Variable{Name: parse.NameVars + "." + name, Type: treeType(t)})
		if err != nil {
			l.errorf(v.Pos, parse.NameVars+"."+name, "", "", "%v", err)
			continue
		}
		env = next
		out = append(out, &Var{Name: name, Value: t, Status: status})
	}
	return env, out
}

func (l *loader) noResourceRefs(e *Expr, why string) {
	for _, r := range e.Refs {
		if l.ids[r] {
			l.errorf(e.Pos, e.Owner, e.Path, e.Source, "reads resource %q: %s", r, why)
		}
	}
}

// node compiles one resource.
func (l *loader) node(env *cel.Env, r parse.Resource, k *schema.Kind, index int) *Node {
	owner := "resource " + r.ID
	n := &Node{ID: r.ID, Kind: k, Index: index, Shared: r.Shared, Recreate: r.Recreate, IgnoreReadiness: r.IgnoreReadiness}
	for i, v := range r.IncludeWhen {
		if e := l.boolExpr(env, v, owner, fmt.Sprintf("includeWhen[%d]", i)); e != nil {
			n.IncludeWhen = append(n.IncludeWhen, e)
		}
	}
	for i, v := range r.ReadyWhen {
		if e := l.boolExpr(env, v, owner, fmt.Sprintf("readyWhen[%d]", i)); e != nil {
			n.ReadyWhen = append(n.ReadyWhen, e)
		}
	}
	if len(r.ReadyWhen) == 0 {
		n.ReadyWhen = l.defaultReadyWhen(env, r, k)
	}
	tenv := env
	if r.ForEach != nil {
		tenv = l.forEach(env, r, n)
	}
	n.Template = l.tree(tenv, r.Template, k.Type, owner, "")
	if n.ForEach != nil {
		l.nameFromEach(r, n)
	}
	deps := map[string]bool{}
	all := append(exprs(n.Template), n.IncludeWhen...)
	if n.ForEach != nil {
		all = append(all, n.ForEach)
	}
	for _, e := range all {
		for _, ref := range e.Refs {
			if ref == r.ID {
				l.errorf(e.Pos, owner, e.Path, e.Source, "a resource's template cannot read its own observed object; use readyWhen or status for that")
			} else if l.ids[ref] {
				deps[ref] = true
			}
		}
	}
	l.readDeps(all, deps)
	for d := range deps {
		n.Deps = append(n.Deps, d)
	}
	sort.Strings(n.Deps)
	return n
}

func (l *loader) boolExpr(env *cel.Env, v *parse.Value, owner, path string) *Expr {
	e := l.compile(env, v.Source, owner, path)
	if e == nil {
		return nil
	}
	if !e.Type.IsExactType(types.BoolType) && !isDyn(e.Type) {
		l.errorf(e.Pos, owner, path, e.Source, "expected a bool, got %s", typeString(e.Type))
		return nil
	}
	return e
}

func (l *loader) compile(env *cel.Env, src *parse.Source, owner, path string) *Expr {
	prg, err := env.Compile(src.Text)
	if err != nil {
		l.errorf(src.Pos, owner, path, src.Text, "%s", explain(env, err, l.ids))
		return nil
	}
	return newExpr(prg, src.Pos, owner, path)
}

// explain adds hints to CEL's errors about unknown names: the nearest name there is to a
// misspelt variable or field, and for an unknown variable which names exist.
func explain(env *cel.Env, err error, ids map[string]bool) string {
	msg := err.Error()
	if name, candidates, ok := env.Misspelt(err); ok {
		if hint := parse.DidYouMean(name, candidates); hint != "" {
			first, rest, _ := strings.Cut(msg, "\n")
			msg = first + ";" + hint
			if rest != "" {
				msg += "\n" + rest
			}
		}
	}
	if strings.Contains(msg, "undeclared reference") {
		names := make([]string, 0, len(ids))
		for id := range ids {
			names = append(names, id)
		}
		sort.Strings(names)
		msg += fmt.Sprintf("\n    (in scope: schema, defaulted, config, vars.<name>, and the resource ids %s; status and status vars also see ready.<id>, errors, allReady and anyReady; a collection's template and a check with forEach, each)", strings.Join(names, ", "))
	}
	return msg
}

// sources lists the expressions of a parsed value tree.
func sources(v *parse.Value) []*parse.Source {
	var out []*parse.Source
	var walk func(*parse.Value)
	walk = func(v *parse.Value) {
		switch v.Kind {
		case parse.Expr:
			out = append(out, v.Source)
		case parse.Template:
			for _, p := range v.Parts {
				if p.Source != nil {
					out = append(out, p.Source)
				}
			}
		case parse.Map:
			for _, f := range v.Fields {
				walk(f.Value)
			}
		case parse.List:
			for _, it := range v.Items {
				walk(it)
			}
		}
	}
	walk(v)
	return out
}

// exprs lists the compiled expressions of a tree. Only the fields of its kind are set on a
// tree (Expr, Parts, or Fields and Items), so it reads them all.
func exprs(t *Tree) []*Expr {
	if t == nil || t.Static {
		return nil
	}
	var out []*Expr
	if t.Expr != nil {
		out = append(out, t.Expr)
	}
	for _, p := range t.Parts {
		if p.Expr != nil {
			out = append(out, p.Expr)
		}
	}
	for _, c := range slices.Concat(t.Fields, t.Items) {
		out = append(out, exprs(c)...)
	}
	return out
}

// check compiles one check: with forEach, its rule, field and message see each.
func (l *loader) check(env *cel.Env, c parse.Check, owner string) *Check {
	ch := &Check{}
	if c.ForEach != nil {
		elem := types.DynType
		if ch.ForEach = l.compile(env, c.ForEach.Source, owner, "forEach"); ch.ForEach != nil {
			switch t := ch.ForEach.Type; {
			case t.Kind() == types.ListKind:
				elem = t.Parameters()[0]
			case !isDyn(t):
				l.errorf(ch.ForEach.Pos, owner, "forEach", ch.ForEach.Source, "expected a list, got %s: the check is made once per item", typeString(t))
			}
		}
		next, err := env.Extend(cel.Variable{Name: EachVar, Type: elem})
		if err != nil {
			l.errorf(c.Pos, owner, "forEach", "", "%v", err)
			return nil
		}
		env = next
	}
	ch.Rule = l.boolExpr(env, c.Rule, owner, "rule")
	ch.Message = l.tree(env, c.Message, apiservercel.StringType, owner, "message")
	if c.Field != nil {
		ch.Field = l.tree(env, c.Field, apiservercel.StringType, owner, "field")
	}
	all := append(exprs(ch.Message), exprs(ch.Field)...)
	if ch.ForEach != nil {
		all = append(all, ch.ForEach)
	}
	if ch.Rule == nil {
		return nil
	}
	for _, e := range append(all, ch.Rule) {
		l.noResourceRefs(e, "a check runs before anything is rendered")
		l.noNamedReads(e)
	}
	return ch
}

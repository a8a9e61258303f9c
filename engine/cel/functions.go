package cel

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/parser"
)

// Function is a helper a graph declares once and its expressions call: Name(args) stands
// for Body with each of Params replaced by its argument. A call is expanded where it is
// parsed, as a macro, so each use is type-checked with the types of its own arguments and
// costs at render exactly what the body written out would: nothing is called at render.
type Function struct {
	Name   string
	Params []string
	Body   string
}

// macroNames are the names of the macros of the environment (coreOptions, libraries): a
// function cannot take one, as it would hide the macro or be hidden by it.
var macroNames = []string{"has", "all", "exists", "exists_one", "existsOne", "map", "filter",
	"transformList", "transformMap", "transformMapEntry", "optMap", "optFlatMap", "bind"}

// Define returns the environment with f's calls expanded. f's body may call the functions
// defined before it (which is why there is no recursion). Its parameters must not take the
// name of a variable of the environment, which the body could then not reach. The body
// is type-checked with every parameter a dyn, so a mistake in it is reported here, once.
func (e *Env) Define(f Function) (*Env, error) {
	if e.env.HasFunction(f.Name) || slices.Contains(macroNames, f.Name) {
		return nil, fmt.Errorf("%q is the name of a CEL function or macro; choose another", f.Name)
	}
	params := make([]Variable, len(f.Params))
	for i, p := range f.Params {
		if e.declaresHead(p) {
			return nil, fmt.Errorf("parameter %q is the name of a variable the body could then not read; choose another", p)
		}
		params[i] = Variable{Name: p, Type: types.DynType}
	}
	body, iss := e.env.Parse(f.Body)
	if iss.Err() != nil {
		return nil, &CompileError{Source: f.Body, Issues: cleanIssues(iss.Err().Error())}
	}
	withParams, err := e.Extend(params...)
	if err != nil {
		return nil, err
	}
	if _, err := withParams.Compile(f.Body); err != nil {
		return nil, err
	}
	x := expander{fn: f.Name, params: f.Params, body: body.NativeRep().Expr()}
	env, err := e.env.Extend(cel.Macros(cel.GlobalVarArgMacro(f.Name, x.expand)))
	if err != nil {
		return nil, err
	}
	return &Env{env: env, costLimit: e.costLimit, declared: e.declared, provider: e.provider}, nil
}

// declaresHead reports whether name is a variable of e, or the head of a qualified one
// (vars of vars.image).
func (e *Env) declaresHead(name string) bool {
	for d := range e.declared {
		if head, _, _ := strings.Cut(d, "."); head == name {
			return true
		}
	}
	return false
}

// expander expands the calls of one function.
type expander struct {
	fn     string
	params []string
	body   ast.Expr
}

func (x expander) expand(eh parser.ExprHelper, _ ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
	if len(args) != len(x.params) {
		return nil, &common.Error{Message: fmt.Sprintf("%s(%s) takes %d arguments, given %d",
			x.fn, strings.Join(x.params, ", "), len(x.params), len(args))}
	}
	c := copier{eh: eh, fac: ast.NewExprFactory(), args: map[string]ast.Expr{}, suffix: "@" + x.fn}
	for i, p := range x.params {
		c.args[p] = args[i]
	}
	return c.copy(x.body, nil), nil
}

// copier writes out one call: a copy of the body with fresh ids, every one placed at the
// call, each parameter replaced by a copy of its argument. The body's comprehension
// variables are renamed (x becomes x@fn), so that an argument naming a variable of the
// caller's (an element `x` of the caller's own map()) is never captured by one of the
// body's.
type copier struct {
	eh     parser.ExprHelper
	fac    ast.ExprFactory
	args   map[string]ast.Expr
	suffix string
}

// id is a fresh id placed at the call.
func (c copier) id() int64 { return c.eh.NewLiteral(types.NullValue).ID() }

func (c copier) copy(e ast.Expr, renamed map[string]string) ast.Expr {
	switch e.Kind() {
	case ast.LiteralKind:
		return c.fac.NewLiteral(c.id(), e.AsLiteral())
	case ast.IdentKind:
		name := e.AsIdent()
		if r, ok := renamed[name]; ok {
			return c.fac.NewIdent(c.id(), r)
		}
		if a, ok := c.args[name]; ok {
			return c.eh.Copy(a)
		}
		return c.fac.NewIdent(c.id(), name)
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return c.fac.NewPresenceTest(c.id(), c.copy(s.Operand(), renamed), s.FieldName())
		}
		return c.fac.NewSelect(c.id(), c.copy(s.Operand(), renamed), s.FieldName())
	case ast.CallKind:
		call := e.AsCall()
		args := c.all(call.Args(), renamed)
		if call.IsMemberFunction() {
			return c.fac.NewMemberCall(c.id(), call.FunctionName(), c.copy(call.Target(), renamed), args...)
		}
		return c.fac.NewCall(c.id(), call.FunctionName(), args...)
	case ast.ListKind:
		l := e.AsList()
		return c.fac.NewList(c.id(), c.all(l.Elements(), renamed), l.OptionalIndices())
	case ast.MapKind, ast.StructKind:
		return c.entries(e, renamed)
	case ast.ComprehensionKind:
		return c.comprehension(e.AsComprehension(), renamed)
	}
	return c.fac.NewUnspecifiedExpr(c.id())
}

func (c copier) all(es []ast.Expr, renamed map[string]string) []ast.Expr {
	out := make([]ast.Expr, len(es))
	for i, a := range es {
		out[i] = c.copy(a, renamed)
	}
	return out
}

// entries copies a map or a struct literal.
func (c copier) entries(e ast.Expr, renamed map[string]string) ast.Expr {
	if e.Kind() == ast.MapKind {
		m := e.AsMap()
		out := make([]ast.EntryExpr, len(m.Entries()))
		for i, en := range m.Entries() {
			me := en.AsMapEntry()
			out[i] = c.fac.NewMapEntry(c.id(), c.copy(me.Key(), renamed), c.copy(me.Value(), renamed), me.IsOptional())
		}
		return c.fac.NewMap(c.id(), out)
	}
	s := e.AsStruct()
	out := make([]ast.EntryExpr, len(s.Fields()))
	for i, en := range s.Fields() {
		f := en.AsStructField()
		out[i] = c.fac.NewStructField(c.id(), f.Name(), c.copy(f.Value(), renamed), f.IsOptional())
	}
	return c.fac.NewStruct(c.id(), s.TypeName(), out)
}

// comprehension copies a comprehension with its variables renamed: the range and the
// accumulator's start are outside their scope, the loop inside, the result sees the
// accumulator only.
func (c copier) comprehension(cm ast.ComprehensionExpr, renamed map[string]string) ast.Expr {
	rename := func(scope map[string]string, name string) string {
		if name == "" || strings.HasPrefix(name, "#") {
			return name // no variable (iterVar2 of a one-variable loop), or one never read
		}
		scope[name] = name + c.suffix
		return scope[name]
	}
	iterRange, accuInit := c.copy(cm.IterRange(), renamed), c.copy(cm.AccuInit(), renamed)
	result := maps.Clone(renamed)
	if result == nil {
		result = map[string]string{}
	}
	loop := maps.Clone(result)
	iter, iter2 := rename(loop, cm.IterVar()), rename(loop, cm.IterVar2())
	accu := rename(loop, cm.AccuVar())
	rename(result, cm.AccuVar())
	return c.fac.NewComprehensionTwoVar(c.id(), iterRange, iter, iter2, accu, accuInit,
		c.copy(cm.LoopCondition(), loop), c.copy(cm.LoopStep(), loop), c.copy(cm.Result(), result))
}

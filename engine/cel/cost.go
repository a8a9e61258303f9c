package cel

import (
	"github.com/google/cel-go/cel"
	"math"
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// What a value costs, besides one unit per node evaluated and per loop step: as in
// Kubernetes' runtime cost, the size of what functions build and read. A function that
// builds a string or list costs what its result holds: a tenth of a unit per byte of a
// string (Kubernetes' factor), a unit per element of a list or entry of a map; one that scans
// a string with a regular expression costs what Kubernetes charges for it (a tenth of a unit
// per byte, times a quarter unit per byte of the pattern). So a string that grows by
// doubling, in a loop or through vars, reaches the cost limit (DefaultCostLimit) at about ten
// megabytes and a list at a million elements, with the usual "cost limit exceeded" error,
// and a render as a whole builds at most its budget.
//
// Functions whose result can be far larger than their arguments (replace, join, format)
// and the regex functions are charged before they run, from their arguments (counted
// through nested values), as is deepMerge, from the maps it will build (which a value
// nested in itself could make many); the others after, from their result (its length: a
// string's bytes, a list's elements, a map's entries). join, and the regex functions with a constant pattern, are
// charged as their first argument is evaluated (argCharges); the others evaluate their
// arguments once more to be charged.
var (
	// chargedAfter build a result at most about as large as their arguments together.
	chargedAfter = map[string]bool{
		"_+_": true, "lowerAscii": true, "upperAscii": true, "trim": true, "substring": true,
		"reverse": true, "strings.quote": true, "split": true, "base64.encode": true,
		"base64.decode": true, "string": true, "bytes": true,
		// json.encode's ToJSON stops at MaxValueSize.
		"json.encode": true,
		// maps.go: the result holds at most the entries of both maps.
		"merge": true, "omit": true,
	}
	// chargedBefore are charged from their arguments, before they run.
	chargedBefore = map[string]bool{
		"replace": true, "join": true, "format": true,
		"matches": true, "find": true, "findAll": true,
		// maps.go: the maps it builds, counted along the keys both maps hold.
		"deepMerge": true,
	}
)

// sized wraps a call to one of the functions above: it charges the meter of the evaluation
// (the activation answers "#meter") and stops the evaluation once the cost limit is passed.
// It is no InterpretableCall itself, so that cel-go's later decorators (constant folding,
// regex precompilation) do not rebuild the call without it.
type sized struct {
	call   interpreter.InterpretableCall
	before bool
}

func (s *sized) ID() int64 { return s.call.ID() }

func (s *sized) Eval(act interpreter.Activation) ref.Val {
	mv, ok := act.ResolveName("#meter")
	m, _ := mv.(*meter)
	if !ok || m == nil {
		return s.call.Eval(act)
	}
	if m.stopped != nil {
		return types.NewErr("%v", m.stopped)
	}
	if s.before {
		args := s.call.Args()
		vals := make([]ref.Val, len(args))
		for i, a := range args {
			vals[i] = a.Eval(act)
		}
		if !m.charge(costBefore(s.call.Function(), vals, m.left())) {
			return types.NewErr("%v", m.stopped)
		}
		return s.call.Eval(act)
	}
	v := s.call.Eval(act)
	if !m.charge(length(v)) {
		return types.NewErr("%v", m.stopped)
	}
	return v
}

// argCharge is how the first argument of join or of a regex function with a constant
// pattern is charged: through nested values (join), or as a string scanned by a pattern of
// that cost.
type argCharge struct {
	regexCost float64 // 0 for join
	// accumulate marks instead a macro's own append to its result (map, filter: the loop
	// step `@result + [x]`), which builds in place and is charged as a loop step.
	accumulate bool
}

// chargedArg wraps such an argument.
type chargedArg struct {
	interpreter.Interpretable
	charge argCharge
}

func (a *chargedArg) Eval(act interpreter.Activation) ref.Val {
	v := a.Interpretable.Eval(act)
	mv, _ := act.ResolveName("#meter")
	m, _ := mv.(*meter)
	if m == nil {
		return v
	}
	var cost uint64
	if a.charge.regexCost == 0 {
		cost = sizeOf(v, m.left())
	} else {
		cost = regexCost(textLen(v), a.charge.regexCost)
	}
	if !m.charge(cost) {
		return types.NewErr("%v", m.stopped)
	}
	return v
}

// argCharges finds the arguments charged as they are evaluated, by expression id.
func argCharges(a *cel.Ast) map[int64]argCharge {
	out := map[int64]argCharge{}
	var visit func(e ast.NavigableExpr)
	visit = func(e ast.NavigableExpr) {
		if e.Kind() == ast.ComprehensionKind {
			accu := e.AsComprehension().AccuVar()
			ast.PostOrderVisit(e.AsComprehension().LoopStep(), ast.NewExprVisitor(func(x ast.Expr) {
				if x.Kind() == ast.CallKind && x.AsCall().FunctionName() == "_+_" {
					if args := x.AsCall().Args(); len(args) == 2 && args[0].Kind() == ast.IdentKind && args[0].AsIdent() == accu {
						out[x.ID()] = argCharge{accumulate: true}
					}
				}
			}))
		}
		if e.Kind() == ast.CallKind {
			c := e.AsCall()
			args := c.Args()
			if c.IsMemberFunction() {
				args = append([]ast.Expr{c.Target()}, args...)
			}
			switch c.FunctionName() {
			case "join":
				if len(args) > 0 {
					out[args[0].ID()] = argCharge{}
				}
			case "matches", "find", "findAll":
				if len(args) == 2 && args[1].Kind() == ast.LiteralKind {
					if re, ok := args[1].AsLiteral().(types.String); ok {
						out[args[0].ID()] = argCharge{regexCost: math.Max(math.Ceil(float64(len(re))*0.25), 1)}
					}
				}
			}
		}
		for _, ch := range e.Children() {
			visit(ch)
		}
	}
	visit(ast.NavigateAST(a.NativeRep()))
	return out
}

// textLen is the length in bytes of a string argument; 0 for anything else.
func textLen(v ref.Val) uint64 {
	if s, ok := v.(types.String); ok {
		return uint64(len(s))
	}
	return 0
}

// regexCost is Kubernetes' cost of scanning a string of n bytes with a pattern of cost re.
func regexCost(n uint64, re float64) uint64 {
	return uint64(min(math.Ceil((1+float64(n))*0.1)*re, float64(math.MaxUint64/2)))
}

// sizeDecorator wraps the calls and arguments that are charged by size.
func sizeDecorator(charges map[int64]argCharge) interpreter.InterpretableDecorator {
	return func(i interpreter.Interpretable) (interpreter.Interpretable, error) {
		if c, ok := charges[i.ID()]; ok && c.accumulate {
			return i, nil
		}
		i, err := decorateCall(i)
		if c, ok := charges[i.ID()]; ok && err == nil {
			if _, isConst := i.(interpreter.InterpretableConst); !isConst {
				return &chargedArg{Interpretable: i, charge: c}, nil
			}
		}
		return i, err
	}
}

func decorateCall(i interpreter.Interpretable) (interpreter.Interpretable, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok {
		return i, nil
	}
	fn := call.Function()
	if !chargedBefore[fn] && !chargedAfter[fn] {
		return i, nil
	}
	if args := call.Args(); len(args) > 0 {
		if _, ok := args[0].(*chargedArg); ok {
			return i, nil // charged through its argument
		}
	}
	// Calls on constants alone are folded at planning time; their size is fixed.
	allConst := true
	for _, a := range call.Args() {
		if _, ok := a.(interpreter.InterpretableConst); !ok {
			allConst = false
		}
	}
	if allConst {
		return i, nil
	}
	if fn == "matches" {
		// Keep cel-go's precompiled pattern for a constant regex.
		if c, err := interpreter.CompileRegexConstants(interpreter.MatchesRegexOptimization)(i); err == nil {
			if cc, ok := c.(interpreter.InterpretableCall); ok {
				call = cc
			}
		}
	}
	return &sized{call: call, before: chargedBefore[fn]}, nil
}

// sizeCharged reports whether an expression calls a function charged by size.
func sizeCharged(e ast.NavigableExpr) bool {
	if e.Kind() != ast.CallKind {
		return false
	}
	fn := e.AsCall().FunctionName()
	return chargedBefore[fn] || chargedAfter[fn]
}

// costBefore is what a call charged before it runs costs, from its arguments; limit bounds
// the counting.
func costBefore(fn string, args []ref.Val, limit uint64) uint64 {
	switch fn {
	case "matches", "find", "findAll":
		if len(args) < 2 {
			return 0
		}
		return regexCost(textLen(args[0]), math.Max(math.Ceil(float64(textLen(args[1]))*0.25), 1))
	case "replace":
		return replaceSize(args, limit)
	case "deepMerge":
		if len(args) < 2 {
			return 0
		}
		return deepMergeCost(args[0], args[1], limit)
	}
	// join, format, json.encode: the result holds all of the arguments.
	var n uint64
	for _, a := range args {
		n += sizeOf(a, limit-min(n, limit))
	}
	return n
}

// replaceSize is the cost of the string s.replace(old, new[, n]) builds.
func replaceSize(args []ref.Val, limit uint64) uint64 {
	if len(args) < 3 {
		return 0
	}
	s, ok1 := args[0].(types.String)
	old, ok2 := args[1].(types.String)
	repl, ok3 := args[2].(types.String)
	if !ok1 || !ok2 || !ok3 {
		return 0
	}
	count := uint64(strings.Count(string(s), string(old)))
	if len(args) > 3 {
		if n, ok := args[3].(types.Int); ok && n >= 0 && uint64(n) < count {
			count = uint64(n)
		}
	}
	if len(repl) <= len(old) {
		return textCost(len(s))
	}
	grow := uint64(len(repl) - len(old))
	if count > 0 && grow > limit*10/count {
		return limit + 1
	}
	return textCost(len(s) + int(count*grow))
}

// textCost is what a string or bytes of n bytes costs: a tenth of a unit per byte, as
// Kubernetes charges for strings (common.StringTraversalCostFactor), and at least one.
func textCost(n int) uint64 { return uint64(n+9)/10 + uint64(1-min(n, 1)) }

// length is what a function's result costs to build: a tenth of a unit per byte of a string
// or bytes, a unit per element of a list and per entry of a map, one for anything else.
func length(v ref.Val) uint64 {
	switch x := v.(type) {
	case types.String:
		return textCost(len(x))
	case types.Bytes:
		return textCost(len(x))
	case traits.Sizer:
		if n, ok := x.Size().(types.Int); ok && n > 0 {
			return uint64(n)
		}
	}
	return 1
}

// sizeOf is what a value holds, counted through nested values as length counts each. It
// stops counting past limit.
func sizeOf(v any, limit uint64) uint64 {
	c := sizeCounter{limit: limit}
	c.walk(v)
	return c.n
}

type sizeCounter struct{ n, limit uint64 }

func (c *sizeCounter) walk(v any) {
	if c.n > c.limit {
		return
	}
	switch x := v.(type) {
	case types.String:
		c.n += textCost(len(x))
	case string:
		c.n += textCost(len(x))
	case types.Bytes:
		c.n += textCost(len(x))
	case types.Int, types.Uint, types.Double, types.Bool, types.Null, int64, float64, bool, nil:
		c.n++
	case []any:
		c.n += uint64(len(x))
		for _, e := range x {
			c.walk(e)
		}
	case map[string]any:
		c.n += uint64(len(x))
		for _, e := range x {
			c.walk(e)
		}
	case []ref.Val:
		c.n += uint64(len(x))
		for _, e := range x {
			c.walk(e)
		}
	case map[ref.Val]ref.Val:
		c.n += uint64(len(x))
		for _, e := range x {
			c.walk(e)
		}
	case ref.Val:
		c.walkVal(x)
	default:
		c.n++
	}
}

// walkVal counts a CEL container: through the Go value it wraps when it is one walk
// understands (no iterator to allocate), else through its iterator.
func (c *sizeCounter) walkVal(x ref.Val) {
	switch native := x.Value().(type) {
	case []any, map[string]any, []ref.Val, map[ref.Val]ref.Val:
		c.walk(native)
		return
	}
	switch x := x.(type) {
	case traits.Lister:
		c.n += length(x)
		for it := x.Iterator(); it.HasNext() == types.True && c.n <= c.limit; {
			c.walk(it.Next())
		}
	case traits.Mapper:
		c.n += length(x)
		for it := x.Iterator(); it.HasNext() == types.True && c.n <= c.limit; {
			c.walk(x.Get(it.Next()))
		}
	default:
		c.n++
	}
}

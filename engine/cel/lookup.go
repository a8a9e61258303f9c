package cel

import (
	"context"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// path is the variable and the fields an expression that does nothing but select fields
// of one variable reads (schema.metadata.name: schema, [metadata name]). Most template
// values are such paths; Lookup reads them without running CEL, which would convert the
// value it finds into a CEL value that ToJSON then converts back.
type path struct {
	root   string
	fields []string
}

// selectPath returns the path of a checked expression, when it is one.
func selectPath(a *cel.Ast, refs []string) (path, bool) {
	if len(refs) != 1 {
		return path{}, false
	}
	name, ok := qualifiedName(ast.NavigateAST(a.NativeRep()))
	if !ok {
		return path{}, false
	}
	if name == refs[0] {
		return path{root: name}, true
	}
	rest, ok := strings.CutPrefix(name, refs[0]+".")
	if !ok {
		return path{}, false
	}
	return path{root: refs[0], fields: strings.Split(rest, ".")}, true
}

// Lookup evaluates an expression that only selects fields of a variable without running
// CEL. ok is true when it did: v is then what the activation holds there, either a CEL
// value or a native JSON value (string, bool, int64, float64, map[string]any, []any),
// which Eval would have converted into the same CEL value. ok is false for any other
// expression, and for a path that leads through or to anything else (a missing key, a
// null): then Eval gives the value, or the error, as usual. Like Eval, it stops when ctx
// is done and spends the expression's cost from budget.
func (p *Program) Lookup(ctx context.Context, act interpreter.Activation, budget *Budget) (v any, ok bool, err error) {
	if p.path.root == "" || ctx.Err() != nil {
		return nil, false, nil
	}
	v, found := act.ResolveName(p.path.root)
	if !found {
		return nil, false, nil
	}
	if e, isErr := v.(*types.Err); isErr {
		return nil, false, e.Unwrap() // a var that failed as it was computed
	}
	for _, f := range p.path.fields {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false, nil
		}
		if v, found = m[f]; !found {
			return nil, false, nil
		}
	}
	switch v.(type) {
	case ref.Val, string, bool, int64, float64, map[string]any, []any:
	default:
		return nil, false, nil
	}
	if err := budget.spend(p.fixedCost); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// LookupJSON is ToJSON for a value Lookup returned: the same JSON value, counted against
// MaxValueSize the same way as the CEL value Eval would have returned.
func LookupJSON(v any) (out any, present bool, err error) {
	c := converter{left: MaxValueSize}
	switch x := v.(type) {
	case ref.Val:
		return c.toJSON(x)
	case map[string]any, []any:
		// toJSON spends a unit for the CEL value holding the native one.
		if !c.spend(1) {
			return nil, false, ErrTooLarge
		}
	}
	return c.nativeJSON(v)
}

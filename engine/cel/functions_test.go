package cel

import (
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call stands for its function's body: what it evaluates to, what it reads, and that the
// body's own variables (comprehensions, cel.bind) never capture the caller's.
func TestDefine(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "obj", Type: types.DynType}}, 0)
	require.NoError(t, err)
	for _, f := range []Function{
		{Name: "orDefault", Params: []string{"s", "d"}, Body: `s.orValue("").trim() != "" ? s.value() : d`},
		{Name: "none", Params: []string{"l", "x"}, Body: `l.all(e, e != x)`},
		{Name: "twice", Params: []string{"x"}, Body: `cel.bind(y, x, [y, y])`},
		{Name: "maybe", Params: []string{"o"}, Body: `[?o, ?optional.none()]`},
		{Name: "kindOr", Params: []string{"d"}, Body: `orDefault(obj.?kind, d)`},
		{Name: "constant", Body: `"c"`},
	} {
		env, err = env.Define(f)
		require.NoError(t, err, f.Name)
	}
	act, err := interpreter.NewActivation(map[string]any{"obj": map[string]any{"kind": " "}})
	require.NoError(t, err)
	for _, tt := range []struct {
		expr string
		want any
		refs []string
	}{
		{`orDefault(optional.of(" "), "d")`, "d", nil},
		{`orDefault(optional.of("v"), "d")`, "v", nil},
		{`kindOr("K")`, "K", []string{"obj"}},
		{`[1, 2].map(e, none([3, 4], e))`, []any{true, true}, nil},
		{`[1, 2].map(y, twice(y))`, []any{[]any{int64(1), int64(1)}, []any{int64(2), int64(2)}}, nil},
		{`maybe(optional.of(1)) + maybe(optional.none())`, []any{int64(1)}, nil},
		{`twice(twice(constant()))`, []any{[]any{"c", "c"}, []any{"c", "c"}}, nil},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := env.Compile(tt.expr)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.refs, p.Refs)
			assert.Equal(t, tt.want, evalJSON(t, p, act))
		})
	}
}

// What Define refuses, and a call with the wrong number of arguments.
func TestDefineErrors(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "obj", Type: types.DynType}, {Name: "vars.a", Type: types.IntType}}, 0)
	require.NoError(t, err)
	for _, tt := range []struct {
		f    Function
		want string
	}{
		{Function{Name: "size", Params: []string{"x"}, Body: `x`}, `"size" is the name of a CEL function or macro`},
		{Function{Name: "has", Params: []string{"x"}, Body: `x`}, `"has" is the name of a CEL function or macro`},
		{Function{Name: "f", Params: []string{"obj"}, Body: `obj`}, `parameter "obj" is the name of a variable`},
		{Function{Name: "f", Params: []string{"vars"}, Body: `1`}, `parameter "vars" is the name of a variable`},
		{Function{Name: "f", Params: []string{"x"}, Body: `x +`}, `Syntax error`},
		{Function{Name: "f", Params: []string{"x"}, Body: `y`}, `undeclared reference to 'y'`},
	} {
		t.Run(tt.f.Name+"/"+tt.f.Body, func(t *testing.T) {
			_, err := env.Define(tt.f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	env, err = env.Define(Function{Name: "pair", Params: []string{"a", "b"}, Body: `[a, b]`})
	require.NoError(t, err)
	_, err = env.Compile(`pair(1)`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pair(a, b) takes 2 arguments, given 1")
}

package cel

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdapter: expressions reading native values give what they give with cel-go's own
// adapter.
func TestAdapter(t *testing.T) {
	vars := map[string]any{
		"s": "text",
		"n": int64(100000),
		"f": 2.5,
		"m": map[string]any{"a": "b", "n": int64(-300), "l": []any{"x", int64(1), 0.5, map[string]any{"k": "v"}}},
		"l": []any{map[string]any{"k": "one"}, map[string]any{"k": "two"}},
	}
	decls := []Variable{}
	var celDecls []cel.EnvOption
	for name := range vars {
		decls = append(decls, Variable{Name: name, Type: types.DynType})
		celDecls = append(celDecls, cel.Variable(name, types.DynType))
	}
	env, err := NewEnv(nil, decls, 0)
	require.NoError(t, err)
	b, err := base()
	require.NoError(t, err)
	plain, err := b.Extend(celDecls...)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(vars)
	require.NoError(t, err)

	for _, expr := range []string{
		`s`, `s + "-" + s`, `s.size()`, `type(s) == string`, `s == "text"`, `s.upperAscii()`,
		`n`, `n + 1`, `type(n) == int`, `n == 100000`, `f * 2.0`, `f > 2.0`, `type(f) == double`,
		`m`, `m.a`, `m.n - 1`, `m.l`, `m.l[0] + "y"`, `m.l[1] + 1`, `m.l[2] + 0.5`, `m.l[3].k`,
		`m.?a.orValue("")`, `m.?missing.orValue("none")`, `has(m.a)`, `m == {"a": "b", "n": -300, "l": ["x", 1, 0.5, {"k": "v"}]}`,
		`l.map(e, e.k)`, `l.filter(e, e.k == "two")`, `l.exists(e, e.k.startsWith("o"))`, `json.encode(m)`,
		`[s, n, f]`, `{"s": s, "m": m}`,
	} {
		t.Run(expr, func(t *testing.T) {
			p, err := env.Compile(expr)
			require.NoError(t, err)
			got, err := p.Eval(context.Background(), act, nil)
			require.NoError(t, err)

			ast, iss := plain.Compile(expr)
			require.NoError(t, iss.Err())
			prg, err := plain.Program(ast)
			require.NoError(t, err)
			want, _, err := prg.Eval(act)
			require.NoError(t, err)

			runtime.GC() // CEL values share the native values' data: it must outlive them
			assert.Equal(t, types.True, got.Equal(want), "%v != %v", got, want)
			gotJSON, _, err := ToJSON(got)
			require.NoError(t, err)
			wantJSON, _, err := ToJSON(want)
			require.NoError(t, err)
			assert.Equal(t, wantJSON, gotJSON)
		})
	}
}

package cel

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLibrary(t *testing.T) {
	env, err := NewEnv(nil, nil, 0)
	require.NoError(t, err)
	tests := []struct {
		expr string
		want any
	}{
		{`json.encode({"b": 1, "a": [true, "x"]})`, `{"a":[true,"x"],"b":1}`},
		{`json.encode({"a": null, "b": optional.none(), "c": 2.5})`, `{"c":2.5}`},
		{`json.encode("q\"")`, `"q\""`},
		{`json.encode([{"a": 1}] + [{"b": 2}])`, `[{"a":1},{"b":2}]`},
		{`sha256("")`, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{`sha256(json.encode({"x": 1})) == sha256('{"x":1}')`, true},
		{`base64.encode(bytes("user:pass"))`, "dXNlcjpwYXNz"},
		{`string(base64.decode("dXNlcjpwYXNz"))`, "user:pass"},
		{`[1, 2, 3].sum()`, int64(6)},
		{`"a,b".split(",")`, []any{"a", "b"}},
		{`quantity("500m").isLessThan(quantity("1"))`, true},
		{`semver("1.2.3").major()`, int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, present, err := ToJSON(eval(t, env, tt.expr))
			require.NoError(t, err)
			assert.True(t, present)
			assert.Equal(t, tt.want, got)
		})
	}
}

// eval compiles and evaluates one expression with no variables.
func eval(t *testing.T, env *Env, expr string) ref.Val {
	t.Helper()
	p, err := env.Compile(expr)
	require.NoError(t, err)
	v, err := p.Eval(context.Background(), interpreter.EmptyActivation(), nil)
	require.NoError(t, err)
	return v
}

func TestToJSON(t *testing.T) {
	env, err := NewEnv(nil, nil, 0)
	require.NoError(t, err)
	tests := []struct {
		expr    string
		want    any
		present bool
	}{
		{`null`, nil, false},
		{`optional.none()`, nil, false},
		{`optional.of(3)`, int64(3), true},
		{`3u`, int64(3), true},
		{`1.5`, 1.5, true},
		{`-1e300`, -1e300, true},
		{`100000`, int64(100000), true},
		{`-7`, int64(-7), true},
		{`"text" + "-" + string(42)`, "text-42", true},
		{`{"s": "a" + "b", "n": [1 + 256]}`, map[string]any{"s": "ab", "n": []any{int64(257)}}, true},
		{`duration("90s")`, "1m30s", true},
		{`timestamp("2026-01-02T03:04:05Z")`, "2026-01-02T03:04:05Z", true},
		{`[1, null, optional.none(), 2]`, []any{int64(1), int64(2)}, true},
		{`[{"name": "A"}] + [{"name": "B", "n": 2}]`, []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "n": int64(2)}}, true},
		{`{"a": {"b": [1]}}`, map[string]any{"a": map[string]any{"b": []any{int64(1)}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, present, err := ToJSON(eval(t, env, tt.expr))
			require.NoError(t, err)
			runtime.GC() // results share the CEL values' data (sameData): it must outlive them
			assert.Equal(t, tt.present, present)
			assert.Equal(t, tt.want, got)
		})
	}

	_, _, err = ToJSON(eval(t, env, `{1: "a"}`))
	assert.ErrorContains(t, err, "object keys must be strings")
}

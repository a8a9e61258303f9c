package cel

import (
	"context"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaps(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "labels", Type: types.NewMapType(types.StringType, types.StringType)}, {Name: "obj", Type: types.DynType}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{
		"labels": map[string]string{"app": "web"},
		"obj":    map[string]any{"spec": map[string]any{"replicas": int64(1), "template": map[string]any{"image": "a"}}, "kind": "X"},
	})
	require.NoError(t, err)
	tests := []struct {
		expr string
		want any
	}{
		{`{"app": "web", "tier": "a"}.merge({"tier": "b"})`, map[string]any{"app": "web", "tier": "b"}},
		{`labels.merge({"tier": "b"})`, map[string]any{"app": "web", "tier": "b"}},
		{`labels.merge({})`, map[string]any{"app": "web"}},
		{`{"a": {"x": 1}}.merge({"a": {"y": 2}})`, map[string]any{"a": map[string]any{"y": int64(2)}}},
		{`{"a": {"x": 1, "y": 2}}.deepMerge({"a": {"y": 3}})`, map[string]any{"a": map[string]any{"x": int64(1), "y": int64(3)}}},
		{`{"a": {"b": {"c": 1, "d": 2}}, "l": [1]}.deepMerge({"a": {"b": {"d": 3}}, "l": [2]})`,
			map[string]any{"a": map[string]any{"b": map[string]any{"c": int64(1), "d": int64(3)}}, "l": []any{int64(2)}}},
		{`{"a": {"x": 1}}.deepMerge({"a": "flat"})`, map[string]any{"a": "flat"}},
		{`{"a": 1, "b": 2}.deepMerge({"a": null})`, map[string]any{"b": int64(2)}},
		{`obj.deepMerge({"spec": {"template": {"image": "b"}}})`,
			map[string]any{"kind": "X", "spec": map[string]any{"replicas": int64(1), "template": map[string]any{"image": "b"}}}},
		{`{"spec": {"replicas": 3}}.deepMerge(obj)`,
			map[string]any{"kind": "X", "spec": map[string]any{"replicas": int64(1), "template": map[string]any{"image": "a"}}}},
		{`{"a": 1, "b": 2, "c": 3}.omit(["a", "c"])`, map[string]any{"b": int64(2)}},
		{`labels.omit(["app", "missing"])`, map[string]any{}},
		{`obj.omit(["spec"])`, map[string]any{"kind": "X"}},
		{`labels.merge({"b": "2"}).omit(["app"]).size()`, int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := env.Compile(tt.expr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, evalJSON(t, p, act))
		})
	}
}

// evalJSON evaluates p over act, within the default cost limit, as JSON.
func evalJSON(t *testing.T, p *Program, act interpreter.Activation) any {
	t.Helper()
	v, err := p.Eval(context.Background(), act, &Budget{Remaining: DefaultCostLimit})
	require.NoError(t, err)
	got, _, err := ToJSON(v)
	require.NoError(t, err)
	return got
}

// The map functions keep the maps' types, and refuse what is not a map of the same kind.
func TestMapsTypes(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "labels", Type: types.NewMapType(types.StringType, types.StringType)}}, 0)
	require.NoError(t, err)
	for expr, want := range map[string]string{
		`labels.merge({"a": "b"})`:          "map(string, string)",
		`labels.deepMerge({"a": {"b": 1}})`: "map(string, dyn)",
		`{"a": 1}.omit(["a"])`:              "map(string, int)",
		`dyn(labels).merge({"a": 1})`:       "map(string, int)",
	} {
		p, err := env.Compile(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, p.Type.String(), expr)
	}
	for expr, want := range map[string]string{
		`labels.merge({"a": 1})`: "found no matching overload for 'merge' applied to 'map(string, string).(map(string, int))'",
		`labels.merge(["a"])`:    "found no matching overload for 'merge'",
		`labels.omit("app")`:     "found no matching overload for 'omit' applied to 'map(string, string).(string)'",
		`labels.omit([1])`:       "found no matching overload for 'omit'",
		`"s".deepMerge({})`:      "found no matching overload for 'deepMerge'",
		`labels.deepMerge([1])`:  "found no matching overload for 'deepMerge'",
		`labels.merge()`:         "found no matching overload for 'merge'",
	} {
		_, err := env.Compile(expr)
		require.Error(t, err, expr)
		assert.Contains(t, err.Error(), want, expr)
	}
}

// cel.bind names a value once for the expression it wraps.
func TestBind(t *testing.T) {
	env, err := NewEnv(nil, nil, 0)
	require.NoError(t, err)
	v := eval(t, env, `cel.bind(name, "web", name + "-" + name)`)
	assert.Equal(t, types.String("web-web"), v)
	_, err = env.Compile(`cel.bind("name", 1, 2)`)
	assert.ErrorContains(t, err, "cel.bind() variable names must be simple identifiers")
}

// Map growth bombs: each stops at the cost limit, having built little.
func TestMapCosts(t *testing.T) {
	big := map[string]any{}
	for i := range 100_000 {
		big[strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+string(rune(i))] = int64(i)
	}
	env, err := NewEnv(nil, []Variable{{Name: "big", Type: types.NewMapType(types.StringType, types.DynType)}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"big": big})
	require.NoError(t, err)
	for _, expr := range []string{
		`[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(i, big.merge({"x": i})).size()`,
		`[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(i, big.omit(["x"])).size()`,
		`[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(i, big.deepMerge({"x": i})).size()`,
		// a map nested in itself 2^40 times through bindings, merged with itself
		`cel.bind(a, {"x": big, "y": big}, cel.bind(b, {"x": a, "y": a}, cel.bind(c, {"x": b, "y": b},
			cel.bind(d, {"x": c, "y": c}, cel.bind(e, {"x": d, "y": d}, e.deepMerge(e)))))).size()`,
	} {
		p, err := env.Compile(expr)
		require.NoError(t, err, expr)
		_, err = p.Eval(context.Background(), act, nil)
		require.Error(t, err, expr)
		assert.ErrorIs(t, err, ErrCostLimit, expr)
	}
}

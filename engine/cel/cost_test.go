package cel

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Growth bombs: expressions whose nodes and loop steps are few but whose strings and lists
// grow past ten megabytes. Each stops with the cost limit's error (json.encode with
// ToJSON's bound), having built no more than a few times what the limit stands for.
func TestCostCountsSizes(t *testing.T) {
	s := strings.Repeat("a", 1_000_000) // 1 MB, as an instance may hold
	env, err := NewEnv(nil, []Variable{{Name: "s", Type: types.StringType}, {Name: "big", Type: types.StringType}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"s": s, "big": strings.Repeat("ab", 500_000)})
	require.NoError(t, err)
	tests := []struct {
		name, expr, err string
	}{
		{"concatenation in a comprehension", `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(i, s + s)`, "cost limit exceeded: more than 1000000 units"},
		{"replace that multiplies", `s.replace("a", s)`, "cost limit exceeded: more than 1000000 units"},
		{"replace twice", `s.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")`, "cost limit exceeded: more than 1000000 units"},
		{"join of copies", `[s, s, s, s, s, s, s, s, s, s, s, s].join("")`, "cost limit exceeded: more than 1000000 units"},
		{"nested lists then json.encode", `json.encode([[s, s, s], [s, s, s], [s, s, s], [s, s, s]])`, "the value is larger than 3145728 units"},
		{"format of copies", `"%s%s%s%s%s%s%s%s%s%s%s".format([s, s, s, s, s, s, s, s, s, s, s])`, "cost limit exceeded: more than 1000000 units"},
		{"matches over a large string in a filter", `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].filter(i, big.matches("(a|b)*c"))`, "cost limit exceeded: more than 1000000 units"},
		{"doubling concatenation", `[s + s].map(a, [a + a].map(b, [b + b].map(c, [c + c].map(d, d + d))))`, "cost limit exceeded: more than 1000000 units"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := env.Compile(tt.expr)
			require.NoError(t, err)
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = p.Eval(context.Background(), act, nil)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(48<<20), "allocated while evaluating")
		})
	}
}

// The same functions on ordinary sizes cost what they did: their results' sizes.
func TestCostOfOrdinaryStrings(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "s", Type: types.StringType}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"s": "web"})
	require.NoError(t, err)
	for expr, want := range map[string]any{
		`s + "-settings"`:                     "web-settings",
		`s.replace("w", "W")`:                 "Web",
		`[s, "x"].join("/")`:                  "web/x",
		`json.encode({"a": [s]})`:             `{"a":["web"]}`,
		`s.matches("^w")`:                     true,
		`[1, 2].map(i, s + string(i))`:        []any{"web1", "web2"},
		`"%s:%d".format([s, 80])`:             "web:80",
		`s.upperAscii() + s.lowerAscii()`:     "WEBweb",
		`"a,b".split(",").map(x, x + s)`:      []any{"aweb", "bweb"},
		`[s].exists(x, x.matches("w" + "e"))`: true,
	} {
		p, err := env.Compile(expr)
		require.NoError(t, err, expr)
		budget := &Budget{Remaining: DefaultCostLimit}
		v, err := p.Eval(context.Background(), act, budget)
		require.NoError(t, err, expr)
		got, _, err := ToJSON(v)
		require.NoError(t, err)
		assert.Equal(t, want, got, expr)
		assert.Less(t, DefaultCostLimit-budget.Remaining, uint64(200), "%s: cost", expr)
	}
}

// ToJSON copies a value shared within a result once per occurrence; past MaxValueSize it
// stops.
func TestToJSONTooLarge(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "s", Type: types.StringType}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"s": strings.Repeat("x", 1<<20)})
	require.NoError(t, err)
	p, err := env.Compile(`[s, s, s, s]`)
	require.NoError(t, err)
	v, err := p.Eval(context.Background(), act, nil)
	require.NoError(t, err)
	_, _, err = ToJSON(v)
	require.ErrorIs(t, err, ErrTooLarge)
}

// TestFoldConstantCalls: a call on constants, and a list or map literal of constants, is
// evaluated once, when the program is planned, and gives the value, the cost and the error
// it gives when its arguments come from variables.
func TestFoldConstantCalls(t *testing.T) {
	env, err := NewEnv(nil, []Variable{
		{Name: "zero", Type: types.StringType}, {Name: "one", Type: types.StringType},
		{Name: "bad", Type: types.StringType}, {Name: "abc", Type: types.StringType},
		{Name: "n", Type: types.IntType},
	}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"zero": "0", "one": "1", "bad": "1.2.3", "abc": "abc", "n": int64(4)})
	require.NoError(t, err)
	tests := []struct {
		folded, unfolded string
		fewerAllocs      bool // than unfolded
	}{
		{`quantity("0").isLessThan(quantity(one))`, `quantity(zero).isLessThan(quantity(one))`, true},
		{`size("abc") + n`, `size(abc) + n`, false},
		{`[1, 2].map(x, x * n).size() == size([1, 2])`, `[1, 2].map(x, x * n).size() == size([1, n])`, true},
		{`quantity("1.2.3").isLessThan(quantity(one))`, `quantity(bad).isLessThan(quantity(one))`, false},
		{`[["0", "b"], ["c"]][n - 4][0] + one`, `[[zero, "b"], ["c"]][n - 4][0] + one`, true},
		{`{"a": [1], "b": [2]}[abc.substring(0, 1)][0] + n`, `{"a": [1], "b": [n]}[abc.substring(0, 1)][0] + n`, true},
	}
	for _, tt := range tests {
		t.Run(tt.folded, func(t *testing.T) {
			run := func(src string) (any, error, uint64, float64) {
				p, err := env.Compile(src)
				require.NoError(t, err)
				budget := &Budget{Remaining: 1000}
				v, err := p.Eval(context.Background(), act, budget)
				allocs := testing.AllocsPerRun(20, func() { _, _ = p.Eval(context.Background(), act, nil) })
				return v, err, 1000 - budget.Remaining, allocs
			}
			v, err, cost, allocs := run(tt.folded)
			wantV, wantErr, wantCost, unfoldedAllocs := run(tt.unfolded)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
			} else {
				require.NoError(t, err)
				assert.Equal(t, wantV, v)
			}
			assert.Equal(t, wantCost, cost)
			if tt.fewerAllocs {
				assert.Less(t, allocs, unfoldedAllocs)
			} else {
				assert.LessOrEqual(t, allocs, unfoldedAllocs)
			}
		})
	}
}

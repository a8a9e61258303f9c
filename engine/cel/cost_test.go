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
// grow past a megabyte. Each stops with the cost limit's error, having built no more than
// a few times the limit.
func TestCostCountsSizes(t *testing.T) {
	s := strings.Repeat("a", 100_000) // 100 kB, as an instance may hold
	env, err := NewEnv(nil, []Variable{{Name: "s", Type: types.StringType}, {Name: "big", Type: types.StringType}}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"s": s, "big": strings.Repeat("ab", 500_000)})
	require.NoError(t, err)
	tests := []struct {
		name, expr string
	}{
		{"concatenation in a comprehension", `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(i, s + s)`},
		{"replace that multiplies", `s.replace("a", s)`},
		{"replace twice", `s.replace("a", "aaaaaaaaaa").replace("a", "aaaaaaaaaa")`},
		{"join of copies", `[s, s, s, s, s, s, s, s, s, s, s, s].join("")`},
		{"nested lists then json.encode", `json.encode([[s, s, s], [s, s, s], [s, s, s], [s, s, s]])`},
		{"format of copies", `"%s%s%s%s%s%s%s%s%s%s%s".format([s, s, s, s, s, s, s, s, s, s, s])`},
		{"matches over a large string in a filter", `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].filter(i, big.matches("(a|b)*c"))`},
		{"doubling concatenation", `[s + s].map(a, [a + a].map(b, [b + b].map(c, [c + c].map(d, d + d))))`},
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
			require.ErrorIs(t, err, ErrCostLimit)
			assert.Contains(t, err.Error(), "more than 1000000 units")
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "allocated while evaluating")
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

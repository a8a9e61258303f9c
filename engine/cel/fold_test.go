package cel

import (
	"context"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFoldConstantCalls: a call on constants is evaluated once, when the program is
// planned, and gives the value, the cost and the error it gives when its arguments come
// from variables.
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

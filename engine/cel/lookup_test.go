package cel

import (
	"context"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookup: a path is read without CEL, and gives the JSON value, and the cost, that
// evaluating it gives; anything else is left to Eval.
func TestLookup(t *testing.T) {
	env, err := NewEnv(nil, []Variable{
		{Name: "schema", Type: types.DynType},
		{Name: "vars.labels", Type: types.DynType},
		{Name: "vars.port", Type: types.IntType},
	}, 0)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{
		"schema": map[string]any{
			"metadata": map[string]any{"name": "web", "generation": int64(3)},
			"spec":     map[string]any{"ratio": 0.5, "on": true, "ports": []any{int64(80)}, "none": nil, "strs": []string{"a"}},
		},
		"vars.labels": types.DefaultTypeAdapter.NativeToValue(map[string]any{"app": "web"}),
		"vars.port":   types.Int(8088),
	})
	require.NoError(t, err)
	tests := []struct {
		expr   string
		lookup bool
	}{
		{`schema.metadata.name`, true},
		{`schema.metadata.generation`, true},
		{`schema.metadata`, true},
		{`schema.spec.ratio`, true},
		{`schema.spec.on`, true},
		{`schema.spec.ports`, true},
		{`vars.labels`, true},
		{`vars.port`, true},
		{`schema.spec.none`, false},      // null: Eval's
		{`schema.spec.strs`, false},      // not a JSON value
		{`vars.labels.app`, false},       // a field of a CEL value
		{`schema.?metadata.name`, false}, // optional selection
		{`has(schema.metadata.name)`, false},
		{`schema.metadata.name + "-x"`, false},
		{`schema["metadata"].name`, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := env.Compile(tt.expr)
			require.NoError(t, err)
			budget := &Budget{Remaining: 1000}
			v, ok, err := p.Lookup(context.Background(), act, budget)
			require.NoError(t, err)
			require.Equal(t, tt.lookup, ok)
			if !ok {
				assert.Equal(t, uint64(1000), budget.Remaining, "nothing spent")
				return
			}
			evalBudget := &Budget{Remaining: 1000}
			cv, err := p.Eval(context.Background(), act, evalBudget)
			require.NoError(t, err)
			assert.Equal(t, evalBudget.Remaining, budget.Remaining, "the cost Eval spends")
			want, wantPresent, err := ToJSON(cv)
			require.NoError(t, err)
			got, present, err := LookupJSON(v)
			require.NoError(t, err)
			assert.Equal(t, wantPresent, present)
			assert.Equal(t, want, got)
		})
	}
}

// TestLookupMissingKey: a missing key is Eval's to report.
func TestLookupMissingKey(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "schema", Type: types.DynType}}, 0)
	require.NoError(t, err)
	p, err := env.Compile(`schema.metadata.name`)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"schema": map[string]any{"metadata": map[string]any{}}})
	require.NoError(t, err)
	_, ok, err := p.Lookup(context.Background(), act, nil)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = p.Eval(context.Background(), act, nil)
	assert.ErrorContains(t, err, "no such key: name")
}

// TestLookupStops: a done context or a spent budget stops Lookup as it stops Eval.
func TestLookupStops(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "schema", Type: types.DynType}}, 0)
	require.NoError(t, err)
	p, err := env.Compile(`schema.name`)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"schema": map[string]any{"name": "web"}})
	require.NoError(t, err)

	_, _, err = p.Lookup(context.Background(), act, &Budget{Remaining: 1})
	assert.ErrorIs(t, err, ErrBudget)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, ok, err := p.Lookup(ctx, act, nil)
	require.NoError(t, err)
	assert.False(t, ok, "left to Eval, which reports the context")
	_, err = p.Eval(ctx, act, nil)
	assert.ErrorContains(t, err, "evaluation stopped")
}

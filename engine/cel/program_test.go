package cel

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A program is planned at its first evaluation, once, however many renders evaluate it at
// the same time (go test -race finds a second planning racing the first), and what
// planning refuses is still a compile error.
func TestProgramPlannedAtFirstEvaluation(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "n", Type: types.IntType}}, 0)
	require.NoError(t, err)
	prg, err := env.Compile(`[1, 2, 3].map(x, x * n).filter(x, x > 2)`)
	require.NoError(t, err)
	require.NotNil(t, prg.plan, "planned before any evaluation")

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			act, err := interpreter.NewActivation(map[string]any{"n": int64(i)})
			if !assert.NoError(t, err) {
				return
			}
			v, err := prg.Eval(context.Background(), act, nil)
			if assert.NoError(t, err) {
				want := []int64{}
				for _, x := range []int64{1, 2, 3} {
					if x*int64(i) > 2 {
						want = append(want, x*int64(i))
					}
				}
				got, err := v.ConvertToNative(reflect.TypeFor[[]int64]())
				assert.NoError(t, err)
				assert.Equal(t, want, got)
			}
		}()
	}
	wg.Wait()
	assert.Nil(t, prg.plan, "the planning function is dropped once used")
	assert.NotNil(t, prg.prg)

	// k8s regex's find() compiles a constant pattern as the program is planned; a bad one is
	// refused by Compile, with the expression, not at the first evaluation.
	_, err = env.Compile(`"abc".find("[")`)
	var ce *CompileError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Issues, "missing closing ]")
}

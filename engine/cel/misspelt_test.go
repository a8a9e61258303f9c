package cel

import (
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

func TestMisspelt(t *testing.T) {
	spec := apiservercel.NewObjectType("app.spec", map[string]*apiservercel.DeclField{
		"image":     apiservercel.NewDeclField("image", apiservercel.StringType, true, nil, nil),
		"namespace": apiservercel.NewDeclField("__namespace__", apiservercel.StringType, false, nil, nil),
	})
	app := apiservercel.NewObjectType("app", map[string]*apiservercel.DeclField{
		"spec": apiservercel.NewDeclField("spec", spec, true, nil, nil),
	})
	env, err := NewEnv([]*apiservercel.DeclType{app}, []Variable{
		{Name: "schema", Type: app.CelType()},
		{Name: "vars.image", Type: types.StringType}, {Name: "vars.port", Type: types.IntType},
		{Name: "deployment", Type: types.DynType},
	}, 0)
	require.NoError(t, err)
	for _, tt := range []struct {
		expr, name string
		candidates []string
	}{
		{"vars.imge", "vars.imge", []string{"vars.image", "vars.port"}},
		{"deploymnt.spec", "deploymnt", []string{"deployment", "schema", "vars"}},
		{"schema.spec.imag", "imag", []string{"image", "namespace"}},
	} {
		_, err := env.Compile(tt.expr)
		require.Error(t, err, tt.expr)
		name, candidates, ok := env.Misspelt(err)
		require.True(t, ok, tt.expr)
		assert.Equal(t, tt.name, name, tt.expr)
		assert.ElementsMatch(t, tt.candidates, candidates, tt.expr)
	}
	_, err = env.Compile(`1 + "a"`)
	require.Error(t, err)
	_, _, ok := env.Misspelt(err)
	assert.False(t, ok, "a type error names no misspelt name")
}

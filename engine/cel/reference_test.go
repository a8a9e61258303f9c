package cel

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every example of the reference evaluates to true.
func TestReferenceExamples(t *testing.T) {
	env, err := NewEnv(nil, nil, 0)
	require.NoError(t, err)
	for _, d := range append(append([]Doc{}, functionDocs...), macroDocs...) {
		t.Run(d.Name, func(t *testing.T) {
			assert.Equal(t, types.True, eval(t, env, d.Example))
		})
	}
}

// loom's functions are all described, and every description is of a function there is;
// each macro's example expands the macro (no call of its name is left).
func TestReferenceCoversTheEnvironment(t *testing.T) {
	b, err := base()
	require.NoError(t, err)
	described := map[string]bool{}
	for _, d := range functionDocs {
		described[d.Name] = true
		assert.True(t, b.HasFunction(d.Name), "%s is described but not in the environment", d.Name)
	}
	sections, err := librarySections(b)
	require.NoError(t, err)
	listed := map[string]bool{}
	for _, s := range sections {
		for _, f := range s.funcs {
			listed[f.Name()] = true
			if strings.HasPrefix(s.link, "http") {
				continue
			}
			assert.True(t, described[f.Name()], "loom's %s has no description in functionDocs", f.Name())
		}
	}
	for name := range b.Functions() {
		assert.True(t, listed[name] || internal(name), "%s is in no section of the reference", name)
	}

	for _, m := range macroDocs {
		name := strings.Fields(m.Name)[0]
		name = name[strings.LastIndex(name, ".")+1:]
		parsed, iss := b.Parse(m.Example)
		require.NoError(t, iss.Err(), m.Example)
		ast.PostOrderVisit(ast.NavigateAST(parsed.NativeRep()), ast.NewExprVisitor(func(e ast.Expr) {
			if e.Kind() == ast.CallKind {
				assert.NotEqual(t, name, e.AsCall().FunctionName(), "%s: the macro was not expanded", m.Example)
			}
		}))
	}
}

func TestReferenceLists(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Reference(&out, []VariableDoc{{Name: "schema", Type: "t", Where: "w", Description: "d"}}))
	for _, want := range []string{
		"| `schema` | t | w | d |",
		"- `<map(K, V)>.merge(map(K, V)) -> map(K, V)`",
		"- `<list(int)>.sum() -> int`",
		"- `int + int -> int`",
		"- `cel.bind(name, init, e)`",
		"## Kubernetes quantity",
		"Documented at <https://pkg.go.dev/k8s.io/apiserver@v0.33.13/pkg/cel/library#Quantity>.",
	} {
		assert.True(t, strings.Contains(out.String(), want), "the reference lacks %q", want)
	}
}

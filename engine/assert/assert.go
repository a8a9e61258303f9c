package assert

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jmespath-community/go-jmespath/pkg/binding"
	"github.com/kyverno/kyverno-json/pkg/apis/policy/v1alpha1"
	"github.com/kyverno/kyverno-json/pkg/core/assertion"
	"github.com/kyverno/kyverno-json/pkg/core/compilers"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// languages makes a bare `(expr)` JMESPath, as in kyverno-json's own policies; without a
// default, kyverno-json would read such a key as a plain field name.
var languages = compilers.DefaultCompilers.WithDefaultCompiler(compilers.CompilerJP)

// Tree is a compiled assertion tree. It is safe to Check many values with one Tree.
type Tree struct {
	source    string
	assertion assertion.Assertion
}

// Failure is one place where a value does not satisfy a tree.
type Failure struct {
	// Path is where in the value, e.g. `objects[1].spec.(cel;object.replicas > 1)`; empty
	// for the value itself.
	Path    string
	Message string
}

func (f Failure) String() string {
	if f.Path == "" {
		return "(root): " + f.Message
	}
	return f.Path + ": " + f.Message
}

// Compile parses an assertion tree from YAML (or JSON) and compiles every expression in
// it. source names the tree in errors, usually its file.
func Compile(source string, data []byte) (*Tree, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var v any
	// apimachinery's decoder keeps integers int64, as the values under test are.
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return CompileValue(source, v)
}

// CompileValue compiles a tree that is already a JSON value (maps, lists, scalars).
func CompileValue(source string, tree any) (*Tree, error) {
	if tree == nil {
		return nil, fmt.Errorf("%s: the assertion tree is empty", source)
	}
	t := v1alpha1.NewAssertionTree(tree)
	a, ferr := t.Compile(nil, languages)
	if ferr != nil {
		return nil, fmt.Errorf("%s: %s: %s", source, pathOf(ferr), ferr.Detail)
	}
	return &Tree{source: source, assertion: a}, nil
}

// Check asserts the tree against value, a JSON value whose integers are int64. It returns
// every failure, sorted by path. The error is for an expression that could not be
// evaluated at all (a CEL runtime error, a JMESPath function given the wrong type): the
// tree, not the value, needs fixing.
func (t *Tree) Check(value any) ([]Failure, error) {
	errs, err := t.assertion.Assert(nil, value, binding.NewBindings())
	if err != nil {
		var ferr *field.Error
		if errors.As(err, &ferr) {
			return nil, fmt.Errorf("%s: %s: %s", t.source, pathOf(ferr), detail(ferr))
		}
		return nil, fmt.Errorf("%s: %w", t.source, err)
	}
	out := make([]Failure, 0, len(errs))
	for _, e := range errs {
		out = append(out, Failure{Path: pathOf(e), Message: message(e)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Message < out[j].Message
	})
	return out, nil
}

// pathOf is the error's field path; field.Path prints a nil root as "<nil>".
func pathOf(e *field.Error) string {
	p := strings.TrimPrefix(e.Field, "<nil>")
	return strings.TrimPrefix(p, ".")
}

func detail(e *field.Error) string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Type.String()
}

// message says what was expected and what was there, in JSON rather than Go syntax.
func message(e *field.Error) string {
	switch e.Type {
	case field.ErrorTypeRequired, field.ErrorTypeInternal:
		return detail(e)
	}
	return fmt.Sprintf("%s; got %s", detail(e), short(e.BadValue))
}

// short prints a value as JSON, cut to a length that fits a line.
func short(v any) string {
	const max = 120
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

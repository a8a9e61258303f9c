package cel

import (
	"errors"
	"regexp"
	"sort"
	"strings"

	"github.com/google/cel-go/common/ast"
)

var (
	undeclaredRef  = regexp.MustCompile(`undeclared reference to '([^']+)'`)
	undefinedField = regexp.MustCompile(`undefined field '([^']+)'`)
)

// Misspelt reads an error of Compile that names an unknown variable or field, and returns
// the name as written and the names that were there to be meant: the declared variables
// (vars.<name> for vars.imge), or the fields of the object type the field was selected
// from. The caller picks the nearest; ok is false for other errors.
func (e *Env) Misspelt(err error) (name string, candidates []string, ok bool) {
	var ce *CompileError
	if !errors.As(err, &ce) {
		return "", nil, false
	}
	if m := undeclaredRef.FindStringSubmatch(ce.Issues); m != nil {
		name, candidates = e.misspeltVariable(ce.Source, m[1])
		return name, candidates, true
	}
	if m := undefinedField.FindStringSubmatch(ce.Issues); m != nil {
		candidates = e.fieldsBeside(ce.Source, m[1])
		return m[1], candidates, candidates != nil
	}
	return "", nil, false
}

// misspeltVariable: for an unknown head of qualified variables (vars in vars.imge), the
// qualified name the expression wrote and the declared ones of that head; else the name
// and the declared variables, written as heads (vars, not each var).
func (e *Env) misspeltVariable(src, head string) (string, []string) {
	var qualified []string
	heads := map[string]bool{}
	for d := range e.declared {
		h, _, _ := strings.Cut(d, ".")
		heads[h] = true
		if strings.HasPrefix(d, head+".") {
			qualified = append(qualified, d)
		}
	}
	if len(qualified) > 0 {
		refs, err := e.Parse(src)
		if err == nil {
			for _, r := range refs {
				if strings.HasPrefix(r, head+".") && strings.Count(r, ".") == strings.Count(qualified[0], ".") && !e.declared[r] {
					return r, qualified
				}
			}
		}
	}
	return head, sortedKeys(heads)
}

// fieldsBeside finds a selection of field in src whose operand is a variable or a chain of
// selections on one (schema.spec), and lists the fields of the operand's object type; nil
// when there is none.
func (e *Env) fieldsBeside(src, field string) []string {
	parsed, iss := e.env.Parse(src)
	if iss.Err() != nil {
		return nil
	}
	var operand string
	ast.PostOrderVisit(ast.NavigateAST(parsed.NativeRep()), ast.NewExprVisitor(func(x ast.Expr) {
		if x.Kind() != ast.SelectKind || x.AsSelect().FieldName() != field || operand != "" {
			return
		}
		if q, ok := qualifiedName(x.AsSelect().Operand()); ok {
			operand = q
		}
	}))
	if operand == "" {
		return nil
	}
	checked, iss := e.env.Compile(operand)
	if iss.Err() != nil || e.provider == nil {
		return nil
	}
	dt, ok := e.provider.FindDeclType(checked.OutputType().TypeName())
	if !ok || !dt.IsObject() {
		return nil
	}
	names := make([]string, 0, len(dt.Fields))
	for n := range dt.Fields {
		// CEL keywords as field names are declared escaped (__namespace__).
		if strings.HasPrefix(n, "__") && strings.HasSuffix(n, "__") && len(n) > 4 {
			n = n[2 : len(n)-2]
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

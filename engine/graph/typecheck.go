package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/cel-go/common/types"
	apiservercel "k8s.io/apiserver/pkg/cel"

	"github.com/loom-mcp/loom/engine/cel"
	"github.com/loom-mcp/loom/engine/parse"
)

// tree compiles a template value and checks it against target, the schema type of the
// field it fills (nil when unknown: anything goes). path is the field path within owner.
func (l *loader) tree(env *cel.Env, v *parse.Value, target *apiservercel.DeclType, owner, path string) *Tree {
	t := &Tree{Kind: v.Kind}
	if target != nil && isDyn(target.CelType()) {
		target = nil
	}
	switch v.Kind {
	case parse.Literal:
		t.Static, t.Value = true, v.Scalar
		if v.Scalar != nil && target != nil && !literalFits(v.Scalar, target) {
			l.errorf(v.Pos, owner, path, "", "expected %s, got %s %v", declString(target), literalKind(v.Scalar), v.Scalar)
		}
	case parse.Expr:
		e := l.compile(env, v.Source, owner, path)
		if e == nil {
			return t
		}
		t.Expr = e
		if target != nil && !assignable(target, e.Type) {
			l.errorf(e.Pos, owner, path, e.Source, "expected %s, got %s", declString(target), typeString(e.Type))
		}
	case parse.Template:
		l.template(t, env, v, target, owner, path)
	case parse.Map:
		l.mapTree(t, env, v, target, owner, path)
	case parse.List:
		l.listTree(t, env, v, target, owner, path)
	}
	return t
}

// template compiles the parts of a string template into t.
func (l *loader) template(t *Tree, env *cel.Env, v *parse.Value, target *apiservercel.DeclType, owner, path string) {
	if target != nil && !assignable(target, types.StringType) {
		l.errorf(v.Pos, owner, path, "", "expected %s, got a string template", declString(target))
	}
	for _, p := range v.Parts {
		if p.Source == nil {
			t.Parts = append(t.Parts, Part{Lit: p.Lit})
			continue
		}
		e := l.compile(env, p.Source, owner, path)
		if e == nil {
			continue
		}
		if !printable(e.Type) {
			l.errorf(e.Pos, owner, path, e.Source, "a string template can only embed strings, numbers and bools, got %s", typeString(e.Type))
		}
		t.Parts = append(t.Parts, Part{Expr: e})
	}
}

// mapTree compiles a mapping into t: each field against the object's field of that name,
// or the map's value type. A mapping whose fields are all static is static.
func (l *loader) mapTree(t *Tree, env *cel.Env, v *parse.Value, target *apiservercel.DeclType, owner, path string) {
	var fields map[string]*apiservercel.DeclField
	var elem *apiservercel.DeclType
	switch {
	case target == nil:
	case target.IsObject():
		fields = target.Fields
	case target.IsMap():
		elem = target.ElemType
	default:
		l.errorf(v.Pos, owner, path, "", "expected %s, got a mapping", declString(target))
	}
	t.Static = true
	m := map[string]any{}
	for _, f := range v.Fields {
		childPath := parse.JoinPath(path, f.Key)
		var childTarget *apiservercel.DeclType
		switch {
		case fields != nil:
			df, ok := fields[f.Key]
			if !ok {
				l.errorf(f.Pos, owner, childPath, "", "unknown field %q;%s %s has: %s", f.Key, parse.DidYouMean(f.Key, sortedFields(fields)), where(path), fieldNames(fields))
				continue
			}
			childTarget = df.Type
		case elem != nil:
			childTarget = elem
		}
		c := l.tree(env, f.Value, childTarget, owner, childPath)
		t.Keys = append(t.Keys, f.Key)
		t.Fields = append(t.Fields, c)
		if t.Static = t.Static && c.Static; t.Static && c.Value != nil {
			m[f.Key] = c.Value
		}
	}
	if t.Static {
		t.Value = m
	}
}

// listTree compiles a list into t, each item against the list's element type. A list whose
// items are all static is static.
func (l *loader) listTree(t *Tree, env *cel.Env, v *parse.Value, target *apiservercel.DeclType, owner, path string) {
	var elem *apiservercel.DeclType
	if target != nil {
		if !target.IsList() {
			l.errorf(v.Pos, owner, path, "", "expected %s, got a list", declString(target))
		} else {
			elem = target.ElemType
		}
	}
	t.Static = true
	list := []any{}
	for i, it := range v.Items {
		c := l.tree(env, it, elem, owner, fmt.Sprintf("%s[%d]", path, i))
		t.Items = append(t.Items, c)
		if t.Static = t.Static && c.Static; t.Static && c.Value != nil {
			list = append(list, c.Value)
		}
	}
	if t.Static {
		t.Value = list
	}
}

// treeType is the CEL type of a compiled var.
func treeType(t *Tree) *types.Type {
	switch t.Kind {
	case parse.Expr:
		if t.Expr != nil {
			return t.Expr.Type
		}
	case parse.Template:
		return types.StringType
	case parse.Literal:
		switch t.Value.(type) {
		case string:
			return types.StringType
		case int64:
			return types.IntType
		case float64:
			return types.DoubleType
		case bool:
			return types.BoolType
		}
	case parse.Map:
		return types.NewMapType(types.StringType, types.DynType)
	case parse.List:
		return types.NewListType(types.DynType)
	}
	return types.DynType
}

func isDyn(t *types.Type) bool {
	return t == nil || t.Kind() == types.DynKind || t.Kind() == types.AnyKind || t.Kind() == types.ErrorKind || t.Kind() == types.TypeParamKind
}

// assignable reports whether a value of CEL type got may fill a field of schema type
// target. It is generous where CEL's static types are coarser than the schema (maps built
// in CEL for objects); the rendered object is validated against the schema anyway.
func assignable(target *apiservercel.DeclType, got *types.Type) bool {
	if target == nil || isDyn(target.CelType()) || isDyn(got) {
		return true
	}
	switch got.Kind() {
	case types.NullTypeKind:
		return true // null omits the field
	case types.OpaqueKind:
		if got.TypeName() == "optional_type" && len(got.Parameters()) == 1 {
			return assignable(target, got.Parameters()[0])
		}
	}
	switch {
	case target.IsObject():
		return got.Kind() == types.MapKind || got.Kind() == types.StructKind
	case target.IsMap():
		if got.Kind() == types.StructKind {
			return true
		}
		return got.Kind() == types.MapKind && assignable(target.ElemType, got.Parameters()[1])
	case target.IsList():
		return got.Kind() == types.ListKind && assignable(target.ElemType, got.Parameters()[0])
	}
	want := target.CelType()
	switch want.Kind() {
	case types.StringKind:
		return got.Kind() == types.StringKind
	case types.IntKind:
		return got.Kind() == types.IntKind || got.Kind() == types.UintKind
	case types.DoubleKind:
		return got.Kind() == types.DoubleKind || got.Kind() == types.IntKind || got.Kind() == types.UintKind
	case types.BoolKind:
		return got.Kind() == types.BoolKind
	case types.TimestampKind, types.DurationKind, types.BytesKind:
		// JSON carries these as strings.
		return got.Kind() == want.Kind() || got.Kind() == types.StringKind
	}
	return got.IsAssignableType(want)
}

func literalFits(v any, target *apiservercel.DeclType) bool {
	if target.IsObject() || target.IsMap() || target.IsList() {
		return false
	}
	switch v.(type) {
	case string:
		return assignable(target, types.StringType)
	case int64:
		return assignable(target, types.IntType)
	case float64:
		return assignable(target, types.DoubleType)
	case bool:
		return assignable(target, types.BoolType)
	}
	return true
}

func printable(t *types.Type) bool {
	if isDyn(t) {
		return true
	}
	switch t.Kind() {
	case types.StringKind, types.IntKind, types.UintKind, types.DoubleKind, types.BoolKind:
		return true
	}
	return false
}

func literalKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "int"
	case float64:
		return "double"
	case bool:
		return "bool"
	}
	return "value"
}

func typeString(t *types.Type) string {
	if t == nil {
		return "dyn"
	}
	switch t.Kind() {
	case types.StructKind:
		return "an object"
	case types.MapKind:
		return "map(" + typeString(t.Parameters()[0]) + ", " + typeString(t.Parameters()[1]) + ")"
	case types.ListKind:
		return "list(" + typeString(t.Parameters()[0]) + ")"
	}
	return t.String()
}

func declString(t *apiservercel.DeclType) string {
	switch {
	case t.IsObject():
		return "an object"
	case t.IsMap():
		return "a map of " + declString(t.ElemType)
	case t.IsList():
		return "a list of " + declString(t.ElemType)
	}
	return typeString(t.CelType())
}

func fieldNames(fields map[string]*apiservercel.DeclField) string {
	names := sortedFields(fields)
	if len(names) > 12 {
		names = append(names[:12], "…")
	}
	return strings.Join(names, ", ")
}

func sortedFields(fields map[string]*apiservercel.DeclField) []string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func where(path string) string {
	if path == "" {
		return "the object"
	}
	return path
}

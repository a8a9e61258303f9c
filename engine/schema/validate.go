package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"
	smdschema "sigs.k8s.io/structured-merge-diff/v4/schema"
	"sigs.k8s.io/structured-merge-diff/v4/typed"
	"sigs.k8s.io/structured-merge-diff/v4/value"
)

// Validate checks obj (apiVersion and kind set) against its kind's schema with
// structured-merge-diff typed values: unknown fields, scalars of the wrong type, objects and
// lists in each other's place, list items with duplicate or missing keys. The error is a
// *ValidationError naming every offending field, in path order. Value validations (enum,
// pattern, minimum, x-kubernetes-validations) are Admit's.
//
// structured-merge-diff stops at the first unknown field of an object (which one depends on
// map order), so a walk over its schema first collects every unknown or ill-typed field and
// drops them from a copy; structured-merge-diff then validates the copy for the rest.
func (s *Set) Validate(obj map[string]any) error {
	e, err := s.lookupObject(obj)
	if err != nil {
		return err
	}
	tc, err := s.converter()
	if err != nil {
		return err
	}
	t, ok := tc.types[e.gvk]
	if !ok {
		return fmt.Errorf("%w %s: the type converter has no schema for it", ErrUnknownKind, gvkString(e.gvk))
	}
	c := checker{schema: t.Schema}
	clean, _ := c.check(obj, t.TypeRef, nil)
	_, err = t.FromUnstructured(clean)
	var smd typed.ValidationErrors
	switch {
	case err == nil:
	case errors.As(err, &smd):
		for _, fe := range smd {
			c.errs = append(c.errs, FieldError{Path: fe.Path, Message: fe.ErrorMessage})
		}
	default:
		c.errs = append(c.errs, FieldError{Message: err.Error()})
	}
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Path < c.errs[j].Path })
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	return &ValidationError{GVK: e.gvk, Name: name, Fields: c.errs}
}

// ValidationError is Validate's error: every field of one object that does not fit its
// kind's schema.
type ValidationError struct {
	GVK    schema.GroupVersionKind
	Name   string // metadata.name, when the object has one
	Fields []FieldError
}

// FieldError is one offending field. Path is structured-merge-diff's: fields after dots,
// list items by key or index, e.g. `.spec.template.spec.containers[name="web"].bogus`.
type FieldError struct {
	Path    string
	Message string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(gvkString(e.GVK))
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	b.WriteString(" does not fit its schema:")
	for _, f := range e.Fields {
		b.WriteString("\n  ")
		if f.Path != "" {
			b.WriteString(f.Path)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// checker walks a value along its structured-merge-diff type the way typed validation does
// (deducing which of an atom's scalar, list and map applies to the value), records fields
// that are undeclared or of the wrong kind, and returns a copy without them.
type checker struct {
	schema *smdschema.Schema
	errs   []FieldError
}

// check returns v without its offending fields, and false when v itself does not fit tr.
func (c *checker) check(v any, tr smdschema.TypeRef, path fieldpath.Path) (any, bool) {
	a, ok := c.schema.Resolve(tr)
	if !ok || v == nil {
		return v, true // a schema error is structured-merge-diff's to report
	}
	switch x := v.(type) {
	case map[string]any:
		if a.Map != nil {
			return c.checkMap(x, a.Map, path), true
		}
	case []any:
		if a.List != nil {
			return c.checkList(x, a.List, path), true
		}
	default:
		val := value.NewValueInterface(v)
		if val.IsMap() || val.IsList() {
			return v, true // not from JSON; structured-merge-diff judges it
		}
		if a.Scalar != nil && scalarFits(*a.Scalar, val) {
			return v, true
		}
	}
	c.errs = append(c.errs, FieldError{Path: path.String(), Message: fmt.Sprintf("expected %s, got %s", expected(a), describe(v))})
	return nil, false
}

func (c *checker) checkMap(m map[string]any, t *smdschema.Map, path fieldpath.Path) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		p := appendPath(path, fieldpath.PathElement{FieldName: &k})
		tr := t.ElementType
		if f, ok := t.FindField(k); ok {
			tr = f.Type
		} else if tr == (smdschema.TypeRef{}) {
			c.errs = append(c.errs, FieldError{Path: p.String(), Message: "field not declared in schema"})
			continue
		}
		if clean, ok := c.check(v, tr, p); ok {
			out[k] = clean
		}
	}
	return out
}

func (c *checker) checkList(l []any, t *smdschema.List, path fieldpath.Path) []any {
	out := make([]any, 0, len(l))
	for i, item := range l {
		p := appendPath(path, c.listElement(t, i, item))
		if clean, ok := c.check(item, t.ElementType, p); ok {
			out = append(out, clean)
		}
	}
	return out
}

// listElement names a list item as structured-merge-diff does: by its keys (a key's
// default standing in for a missing key), by value in a set, else by index.
func (c *checker) listElement(t *smdschema.List, i int, item any) fieldpath.PathElement {
	byIndex := fieldpath.PathElement{Index: &i}
	if t.ElementRelationship != smdschema.Associative {
		return byIndex
	}
	if len(t.Keys) == 0 {
		if item == nil {
			return byIndex
		}
		val := value.NewValueInterface(item)
		if val.IsMap() || val.IsList() {
			return byIndex
		}
		return fieldpath.PathElement{Value: &val}
	}
	m, ok := item.(map[string]any)
	if !ok {
		return byIndex
	}
	elem, _ := c.schema.Resolve(t.ElementType)
	keys := value.FieldList{}
	for _, k := range t.Keys {
		v, ok := m[k]
		if !ok && elem.Map != nil {
			f, _ := elem.Map.FindField(k)
			v, ok = f.Default, f.Default != nil
		}
		if !ok {
			return byIndex
		}
		keys = append(keys, value.Field{Name: k, Value: value.NewValueInterface(v)})
	}
	keys.Sort()
	return fieldpath.PathElement{Key: &keys}
}

func scalarFits(s smdschema.Scalar, v value.Value) bool {
	switch s {
	case smdschema.Numeric:
		return v.IsFloat() || v.IsInt()
	case smdschema.String:
		return v.IsString()
	case smdschema.Boolean:
		return v.IsBool()
	default: // untyped: int-or-string, quantity, and fields without a type
		return v.IsFloat() || v.IsInt() || v.IsString() || v.IsBool()
	}
}

// expected says what an atom accepts, in JSON's words.
func expected(a smdschema.Atom) string {
	var kinds []string
	if a.Scalar != nil {
		switch *a.Scalar {
		case smdschema.Numeric:
			kinds = append(kinds, "number")
		case smdschema.String:
			kinds = append(kinds, "string")
		case smdschema.Boolean:
			kinds = append(kinds, "boolean")
		default:
			kinds = append(kinds, "scalar")
		}
	}
	if a.List != nil {
		kinds = append(kinds, "list")
	}
	if a.Map != nil {
		kinds = append(kinds, "object")
	}
	return strings.Join(kinds, " or ")
}

// describe names a value's JSON kind, with the value itself for a scalar.
func describe(v any) string {
	val := value.NewValueInterface(v)
	switch {
	case val.IsMap():
		return "object"
	case val.IsList():
		return "list"
	case val.IsString():
		s := val.AsString()
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return fmt.Sprintf("string %q", s)
	case val.IsBool():
		return fmt.Sprintf("boolean %v", val.AsBool())
	case val.IsInt():
		return fmt.Sprintf("number %d", val.AsInt())
	case val.IsFloat():
		return fmt.Sprintf("number %v", val.AsFloat())
	}
	return fmt.Sprintf("%T", v)
}

func appendPath(p fieldpath.Path, e fieldpath.PathElement) fieldpath.Path {
	return append(p[:len(p):len(p)], e)
}

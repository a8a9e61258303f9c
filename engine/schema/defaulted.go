package schema

import (
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultEverywhere applies to obj, in place, the defaults of the schema of kind gvk at
// every depth, under absent parents too: an absent object whose schema defaults a field
// below it is made, with its defaults. The API server applies a default only where the
// parent exists (spec.auth.mode only when spec.auth is set), so the result is a view for
// reading, never what is stored: a graph reads a field's default from it instead of
// spelling the default again, and reads presence from the object itself. An object of a
// built-in kind is left as it is (see Default).
func (s *Set) DefaultEverywhere(gvk schema.GroupVersionKind, obj map[string]any) error {
	e, err := s.lookup(gvk)
	if err != nil {
		return err
	}
	if e.structural == nil {
		return nil
	}
	makeDefaultedParents(obj, e.structural)
	structuraldefaulting.Default(obj, e.structural)
	return nil
}

// makeDefaultedParents adds to obj, at every depth, an empty object for each absent
// property whose schema defaults something below it, so that defaulting fills it.
func makeDefaultedParents(obj map[string]any, s *structuralschema.Structural) {
	for name, prop := range s.Properties {
		child, present := obj[name]
		if !present && prop.Type == "object" && prop.Default.Object == nil && defaultsBelow(&prop) {
			child = map[string]any{}
			obj[name] = child
		}
		if m, ok := child.(map[string]any); ok {
			makeDefaultedParents(m, &prop)
		}
	}
}

// defaultsBelow reports whether a property of s, at any depth, has a default. Items of
// lists and values of maps do not count: no absent list or map is made.
func defaultsBelow(s *structuralschema.Structural) bool {
	for _, prop := range s.Properties {
		if prop.Default.Object != nil || defaultsBelow(&prop) {
			return true
		}
	}
	return false
}

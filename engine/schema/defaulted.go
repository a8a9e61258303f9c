package schema

import (
	"maps"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Defaulted returns obj, an object of kind gvk, with the defaults of its schema applied at
// every depth, under absent parents too: an absent object whose schema defaults a field
// below it is made, with its defaults. The API server applies a default only where the
// parent exists (spec.auth.mode only when spec.auth is set), so the result is a view for
// reading, never what is stored: a graph reads a field's default from it instead of
// spelling the default again, and reads presence from the object itself.
//
// obj is not changed: the result shares every part of obj that no default changes, and
// copies the maps on the way to each one that does. An object of a built-in kind is
// returned as it is (see Default).
func (s *Set) Defaulted(gvk schema.GroupVersionKind, obj map[string]any) (map[string]any, error) {
	e, err := s.lookup(gvk)
	if err != nil || e.structural == nil {
		return obj, err
	}
	e.defaultsOnce.Do(func() { e.defaults = newDefaultsTree(e.structural) })
	if e.defaults == nil {
		return obj, nil
	}
	out, _ := e.defaults.fill(obj)
	return out, nil
}

// defaultsTree is the part of a structural schema that holds defaults: a property's
// default, and the properties (and list items) below it that hold some. It is built once
// per kind, so that defaulting an object walks only the defaulted paths.
type defaultsTree struct {
	def      any  // the property's own default, nil when none
	nullable bool // a null value stays null
	props    map[string]*defaultsTree
	items    *defaultsTree // the items of a list, when they default something
}

// newDefaultsTree is the tree of s, or nil when nothing in s has a default.
func newDefaultsTree(s *structuralschema.Structural) *defaultsTree {
	t := &defaultsTree{def: s.Default.Object, nullable: s.Nullable}
	for name, prop := range s.Properties {
		if c := newDefaultsTree(&prop); c != nil {
			if t.props == nil {
				t.props = map[string]*defaultsTree{}
			}
			t.props[name] = c
		}
	}
	if s.Items != nil {
		t.items = newDefaultsTree(s.Items)
	}
	if t.def == nil && t.props == nil && t.items == nil {
		return nil
	}
	return t
}

// fill returns obj with the defaults of t's properties, and whether it had to change: then
// the result is a copy, and obj is left as it is.
func (t *defaultsTree) fill(obj map[string]any) (map[string]any, bool) {
	out, changed := obj, false
	set := func(k string, v any) {
		if !changed {
			out, changed = maps.Clone(obj), true
		}
		out[k] = v
	}
	for name, c := range t.props {
		v, present := obj[name]
		switch {
		case present && (v != nil || c.nullable):
			if filled, changed := c.below(v); changed {
				set(name, filled)
			}
		case c.def != nil:
			filled, _ := c.below(runtime.DeepCopyJSONValue(c.def))
			set(name, filled)
		case c.props != nil:
			// An absent parent: made only when a default below it applies.
			if filled, changed := c.fill(map[string]any{}); changed {
				set(name, filled)
			}
		}
	}
	return out, changed
}

// below applies the defaults under a value of t's property, a map or a list: the value,
// and whether it changed.
func (t *defaultsTree) below(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		if t.props != nil {
			return t.fill(x)
		}
	case []any:
		if t.items == nil || t.items.props == nil {
			return v, false
		}
		var out []any
		for i, item := range x {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			if filled, changed := t.items.fill(m); changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = filled
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

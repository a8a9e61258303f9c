package controllers

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v4/typed"
	"sigs.k8s.io/structured-merge-diff/v4/value"

	"github.com/loom-mcp/loom/engine/applied"
)

// Field-level comparison is structured-merge-diff's (typed.Compare), the library the API
// server tracks field ownership with: fields are typed from the graph's schemas, so a
// list keyed by name (containers, env, ports) is compared item by item by key, not by
// position, and paths read as managedFields do. Kinds the schemas do not know are compared
// as deduced types (maps by key, lists whole).

// volatileMeta are the metadata fields every write changes, or that only loom's
// bookkeeping uses: a diff leaves them out.
var volatileMeta = []string{"managedFields", "resourceVersion", "generation", "creationTimestamp"}

// comparable is a copy of obj without volatileMeta and loom's intent annotation.
func comparable(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	meta, _ := c.Object["metadata"].(map[string]any)
	for _, f := range volatileMeta {
		delete(meta, f)
	}
	if ann, ok := meta["annotations"].(map[string]any); ok {
		delete(ann, applied.AnnotationIntent)
		if len(ann) == 0 {
			delete(meta, "annotations")
		}
	}
	return c
}

// fieldChanges lists the fields in which after differs from before, volatile metadata
// aside. A field added or removed with everything under it is one change.
func (x *differ) fieldChanges(before, after *unstructured.Unstructured) ([]FieldChange, error) {
	a, b := comparable(before), comparable(after)
	cmp, err := x.compare(a, b)
	if err != nil {
		return nil, err
	}
	var out []FieldChange
	for _, set := range []*fieldpath.Set{cmp.Modified, cmp.Added, cmp.Removed} {
		set.Iterate(func(p fieldpath.Path) {
			for i := 1; i < len(p); i++ {
				if set.Has(p[:i]) {
					return // under a field that is one change already
				}
			}
			ch := FieldChange{Path: p.String()}
			ch.Old, ch.HasOld = valueAt(a.Object, p)
			ch.New, ch.HasNew = valueAt(b.Object, p)
			out = append(out, ch)
		})
	}
	slices.SortFunc(out, func(x, y FieldChange) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

// statusChanges lists the fields in which the status the graph computes differs from
// the instance's, condition transition times aside (they follow their condition).
func (x *differ) statusChanges(inst *unstructured.Unstructured, old, status map[string]any) ([]FieldChange, error) {
	wrap := func(st map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": inst.GetAPIVersion(), "kind": inst.GetKind(),
			"metadata": map[string]any{"name": inst.GetName(), "namespace": inst.GetNamespace()},
			"status":   normalize(st),
		}}
	}
	all, err := x.fieldChanges(wrap(old), wrap(status))
	if err != nil {
		return nil, err
	}
	var out []FieldChange
	for _, ch := range all {
		if !strings.HasSuffix(ch.Path, ".lastTransitionTime") {
			out = append(out, ch)
		}
	}
	return out, nil
}

// compare types both objects with the graph's schemas, or as deduced types for a kind
// they do not know.
func (x *differ) compare(a, b *unstructured.Unstructured) (*typed.Comparison, error) {
	tc := x.r.applier.types
	ta, err := tc.ObjectToTyped(a, typed.AllowDuplicates)
	if err != nil {
		tc = managedfields.NewDeducedTypeConverter()
		if ta, err = tc.ObjectToTyped(a, typed.AllowDuplicates); err != nil {
			return nil, err
		}
	}
	tb, err := tc.ObjectToTyped(b, typed.AllowDuplicates)
	if err != nil {
		return nil, err
	}
	return ta.Compare(tb)
}

// valueAt is the value at p in obj, and whether there is one.
func valueAt(obj map[string]any, p fieldpath.Path) (any, bool) {
	var v any = obj
	for _, pe := range p {
		switch {
		case pe.FieldName != nil:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[*pe.FieldName]; !ok {
				return nil, false
			}
		case pe.Index != nil:
			l, ok := v.([]any)
			if !ok || *pe.Index < 0 || *pe.Index >= len(l) {
				return nil, false
			}
			v = l[*pe.Index]
		default:
			l, _ := v.([]any)
			i := slices.IndexFunc(l, func(item any) bool { return matches(item, pe) })
			if i < 0 {
				return nil, false
			}
			v = l[i]
		}
	}
	return v, true
}

// matches reports whether a list item is the one a key or set-value path element names.
func matches(item any, pe fieldpath.PathElement) bool {
	if pe.Value != nil {
		return value.Equals(value.NewValueInterface(item), *pe.Value)
	}
	m, ok := item.(map[string]any)
	if !ok || pe.Key == nil {
		return false
	}
	for _, f := range *pe.Key {
		got, ok := m[f.Name]
		if !ok || !value.Equals(value.NewValueInterface(got), f.Value) {
			return false
		}
	}
	return true
}

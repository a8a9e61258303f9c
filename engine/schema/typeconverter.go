package schema

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v4/schema"
	"sigs.k8s.io/structured-merge-diff/v4/typed"
	"sigs.k8s.io/structured-merge-diff/v4/value"
)

// typeConverter is what managedfields.NewTypeConverter builds (the same schemaconv
// conversion, indexed by the same x-kubernetes-group-version-kind extension), kept in a type
// of our own because Validate needs the structured-merge-diff schema behind it.
type typeConverter struct {
	types map[schema.GroupVersionKind]typed.ParseableType
}

var _ managedfields.TypeConverter = (*typeConverter)(nil)

// newTypeConverter converts models, keyed by the names their $refs use, to a
// structured-merge-diff schema. Like kube-apiserver's, it preserves unknown fields only
// where a schema says x-kubernetes-preserve-unknown-fields.
func newTypeConverter(models map[string]*spec.Schema) (*typeConverter, error) {
	s, err := schemaconv.ToSchemaFromOpenAPI(models, false)
	if err != nil {
		return nil, fmt.Errorf("type converter: %w", err)
	}
	parser := &typed.Parser{Schema: smdschema.Schema{Types: s.Types}}
	tc := &typeConverter{types: map[schema.GroupVersionKind]typed.ParseableType{}}
	for name, m := range models {
		for _, gvk := range modelGVKs(m) {
			tc.types[gvk] = parser.Type(name)
		}
	}
	return tc, nil
}

func (c *typeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	t, ok := c.types[gvk]
	if !ok {
		return nil, fmt.Errorf("%w %s: the type converter has no schema for it", ErrUnknownKind, gvkString(gvk))
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return t.FromUnstructured(u.UnstructuredContent(), opts...)
	}
	return t.FromStructured(obj, opts...)
}

func (c *typeConverter) TypedToObject(tv *typed.TypedValue) (runtime.Object, error) {
	return valueToObject(tv.AsValue())
}

func valueToObject(v value.Value) (runtime.Object, error) {
	m, ok := v.Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("typed value is a %T, not an object", v.Unstructured())
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// modelGVKs reads a model's x-kubernetes-group-version-kind extension, as decoded from JSON
// or set by crdEntry.
func modelGVKs(m *spec.Schema) []schema.GroupVersionKind {
	list, _ := m.Extensions["x-kubernetes-group-version-kind"].([]any)
	var gvks []schema.GroupVersionKind
	for _, item := range list {
		g, _ := item.(map[string]any)
		group, _ := g["group"].(string)
		version, _ := g["version"].(string)
		kind, _ := g["kind"].(string)
		if kind != "" {
			gvks = append(gvks, schema.GroupVersionKind{Group: group, Version: version, Kind: kind})
		}
	}
	return gvks
}

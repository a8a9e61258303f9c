package schema

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// builtinData is written by hack/openapi (make openapi): the component schemas of the
// OpenAPI v3 documents of core/v1, apps/v1, networking.k8s.io/v1, batch/v1, policy/v1,
// rbac.authorization.k8s.io/v1 and autoscaling/v2, without descriptions, and the kinds those
// documents serve.
//
//go:embed builtin.json.gz
var builtinData []byte

// builtinKinds is the decoded builtinData, shared by every Set. Nothing in it is modified
// after decodeBuiltin returns except through the sync.Once fields.
type builtinKinds struct {
	models map[string]*spec.Schema // by component name, as $refs name them
	kinds  map[schema.GroupVersionKind]*entry

	tcOnce sync.Once
	tc     *typeConverter
	tcErr  error
}

var (
	builtinOnce   sync.Once
	builtinShared *builtinKinds
	builtinErr    error
)

// Builtin returns a new Set holding the built-in kinds. The embedded data is decoded once per
// process and shared, so calling Builtin many times is cheap.
func Builtin() (*Set, error) {
	builtinOnce.Do(func() {
		builtinShared, builtinErr = decodeBuiltin(builtinData)
	})
	if builtinErr != nil {
		return nil, builtinErr
	}
	return &Set{builtin: builtinShared}, nil
}

// decodeBuiltin reads the format hack/openapi writes.
func decodeBuiltin(data []byte) (*builtinKinds, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("built-in kinds: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("built-in kinds: %w", err)
	}
	var doc struct {
		Kinds []struct {
			Group      string `json:"group"`
			Version    string `json:"version"`
			Kind       string `json:"kind"`
			Namespaced bool   `json:"namespaced"`
			Schema     string `json:"schema"`
		} `json:"kinds"`
		Schemas map[string]*wireSchema `json:"schemas"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	// A keyword wireSchema does not know would be lost: refuse it (regenerated data with a
	// new keyword needs a new field below).
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("built-in kinds: %w", err)
	}
	models := make(map[string]*spec.Schema, len(doc.Schemas))
	for name, w := range doc.Schemas {
		m, err := w.schema()
		if err != nil {
			return nil, fmt.Errorf("built-in kinds: %s: %w", name, err)
		}
		models[name] = m
	}
	b := &builtinKinds{models: models, kinds: make(map[schema.GroupVersionKind]*entry, len(doc.Kinds))}
	for _, k := range doc.Kinds {
		gvk := schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
		if _, ok := b.models[k.Schema]; !ok {
			return nil, fmt.Errorf("built-in kinds: %s has no schema %q", gvkString(gvk), k.Schema)
		}
		b.kinds[gvk] = &entry{gvk: gvk, namespaced: k.Namespaced, model: k.Schema}
	}
	return b, nil
}

// typeConverter is the converter for the built-in kinds alone, built on first use.
func (b *builtinKinds) typeConverter() (*typeConverter, error) {
	b.tcOnce.Do(func() {
		b.tc, b.tcErr = newTypeConverter(b.models)
	})
	return b.tc, b.tcErr
}

// wireSchema is every keyword the embedded schemas use. Decoding into it with encoding/json
// and building spec.Schema by hand takes a fraction of spec.Schema's own UnmarshalJSON
// (TestWireSchemaFaithful checks that both give the same schemas).
type wireSchema struct {
	Type                 string                 `json:"type"`
	Format               string                 `json:"format"`
	Ref                  string                 `json:"$ref"`
	Default              any                    `json:"default"`
	AllOf                []*wireSchema          `json:"allOf"`
	OneOf                []*wireSchema          `json:"oneOf"`
	Properties           map[string]*wireSchema `json:"properties"`
	Items                *wireSchema            `json:"items"`
	AdditionalProperties *wireSchema            `json:"additionalProperties"`
	Required             []string               `json:"required"`

	GroupVersionKind []any  `json:"x-kubernetes-group-version-kind"`
	ListType         string `json:"x-kubernetes-list-type"`
	ListMapKeys      []any  `json:"x-kubernetes-list-map-keys"`
	MapType          string `json:"x-kubernetes-map-type"`
	PatchStrategy    string `json:"x-kubernetes-patch-strategy"`
	PatchMergeKey    string `json:"x-kubernetes-patch-merge-key"`
	Unions           []any  `json:"x-kubernetes-unions"`
}

func (w *wireSchema) schema() (*spec.Schema, error) {
	s := &spec.Schema{}
	if w.Type != "" {
		s.Type = spec.StringOrArray{w.Type}
	}
	s.Format = w.Format
	if w.Ref != "" {
		ref, err := spec.NewRef(w.Ref)
		if err != nil {
			return nil, err
		}
		s.Ref = ref
	}
	s.Default = w.Default
	s.Required = w.Required
	var err error
	if s.AllOf, err = schemaList(w.AllOf); err != nil {
		return nil, err
	}
	if s.OneOf, err = schemaList(w.OneOf); err != nil {
		return nil, err
	}
	if w.Properties != nil {
		s.Properties = make(map[string]spec.Schema, len(w.Properties))
		for name, p := range w.Properties {
			ps, err := p.schema()
			if err != nil {
				return nil, err
			}
			s.Properties[name] = *ps
		}
	}
	if w.Items != nil {
		items, err := w.Items.schema()
		if err != nil {
			return nil, err
		}
		s.Items = &spec.SchemaOrArray{Schema: items}
	}
	if w.AdditionalProperties != nil {
		ap, err := w.AdditionalProperties.schema()
		if err != nil {
			return nil, err
		}
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: ap}
	}
	addList := func(key string, v []any) {
		if v != nil {
			s.AddExtension(key, v)
		}
	}
	addString := func(key, v string) {
		if v != "" {
			s.AddExtension(key, v)
		}
	}
	addList("x-kubernetes-group-version-kind", w.GroupVersionKind)
	addString("x-kubernetes-list-type", w.ListType)
	addList("x-kubernetes-list-map-keys", w.ListMapKeys)
	addString("x-kubernetes-map-type", w.MapType)
	addString("x-kubernetes-patch-strategy", w.PatchStrategy)
	addString("x-kubernetes-patch-merge-key", w.PatchMergeKey)
	addList("x-kubernetes-unions", w.Unions)
	return s, nil
}

func schemaList(ws []*wireSchema) ([]spec.Schema, error) {
	if ws == nil {
		return nil, nil
	}
	out := make([]spec.Schema, len(ws))
	for i, w := range ws {
		s, err := w.schema()
		if err != nil {
			return nil, err
		}
		out[i] = *s
	}
	return out, nil
}

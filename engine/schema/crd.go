package schema

import (
	"errors"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

const objectMetaModel = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// AddCRD adds every served version of a CustomResourceDefinition (apiextensions.k8s.io/v1,
// YAML or JSON). source names the file in error messages. Each version's schema must be
// structural, as the API server requires; its metadata is typed as the full ObjectMeta
// (CRD schemas usually say only `type: object` there). A kind that is built in or was added
// before is an error; on any error nothing is added.
func (s *Set) AddCRD(data []byte, source string) ([]schema.GroupVersionKind, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if crd.APIVersion != apiextensionsv1.SchemeGroupVersion.String() || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("%s: want apiVersion %s, kind CustomResourceDefinition; got %q, %q",
			source, apiextensionsv1.SchemeGroupVersion, crd.APIVersion, crd.Kind)
	}
	group, kind := crd.Spec.Group, crd.Spec.Names.Kind
	if group == "" || kind == "" {
		return nil, fmt.Errorf("%s: spec.group and spec.names.kind are required", source)
	}
	var added []*entry
	for i, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		e, err := crdEntry(schema.GroupVersionKind{Group: group, Version: v.Name, Kind: kind}, v.Schema,
			crd.Spec.Scope == apiextensionsv1.NamespaceScoped, source)
		if err != nil {
			return nil, fmt.Errorf("%s: spec.versions[%d] (%s): %w", source, i, v.Name, err)
		}
		e.crd = crd.Spec.Names.Plural + "." + group // the name the API server requires of a CRD
		added = append(added, e)
	}
	if len(added) == 0 {
		return nil, fmt.Errorf("%s: CRD %s serves no version", source, crd.Name)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range added {
		if _, ok := s.builtin.kinds[e.gvk]; ok {
			return nil, fmt.Errorf("%s: %s is a built-in kind", source, gvkString(e.gvk))
		}
		if prev, ok := s.crds[e.gvk]; ok {
			return nil, fmt.Errorf("%s: %s was already added from %s", source, gvkString(e.gvk), prev.source)
		}
		if _, ok := s.builtin.models[e.model]; ok {
			return nil, fmt.Errorf("%s: %s: its type name %s is a built-in schema's", source, gvkString(e.gvk), e.model)
		}
	}
	if s.crds == nil {
		s.crds = map[schema.GroupVersionKind]*entry{}
	}
	gvks := make([]schema.GroupVersionKind, len(added))
	for i, e := range added {
		s.crds[e.gvk] = e
		gvks[i] = e.gvk
	}
	s.tc = nil
	return gvks, nil
}

// crdEntry turns one version's schema into the structural schema the API server defaults
// with and the OpenAPI model it serves for the kind (what kube-apiserver's CRD OpenAPI
// builder makes): metadata a $ref to ObjectMeta, apiVersion and kind strings, the same for
// embedded resources, and the group-version-kind extension structured-merge-diff indexes by.
func crdEntry(gvk schema.GroupVersionKind, validation *apiextensionsv1.CustomResourceValidation, namespaced bool, source string) (*entry, error) {
	if validation == nil || validation.OpenAPIV3Schema == nil {
		return nil, errors.New("no schema.openAPIV3Schema")
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(validation.OpenAPIV3Schema, &internal, nil); err != nil {
		return nil, err
	}
	ss, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return nil, err
	}
	if errs := structuralschema.ValidateStructural(nil, ss); len(errs) > 0 {
		return nil, fmt.Errorf("schema is not structural: %w", errs.ToAggregate())
	}
	// As the API server does: defaults lose fields their schema would prune.
	if err := structuraldefaulting.PruneDefaults(ss); err != nil {
		return nil, err
	}

	root := ss.ToKubeOpenAPI()
	addTypeMeta(root)
	addEmbeddedTypeMeta(root)
	root.AddExtension("x-kubernetes-group-version-kind", []any{
		map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind},
	})
	return &entry{
		gvk:        gvk,
		namespaced: namespaced,
		model:      TypeName(gvk),
		root:       root,
		structural: ss,
		source:     source,
		admitState: admitState{props: &internal},
	}, nil
}

// addTypeMeta makes s's apiVersion and kind strings and its metadata the full ObjectMeta.
func addTypeMeta(s *spec.Schema) {
	s.SetProperty("metadata", spec.Schema{SchemaProps: spec.SchemaProps{
		AllOf: []spec.Schema{*spec.RefSchema(componentsRef + objectMetaModel)},
	}})
	for _, name := range []string{"apiVersion", "kind"} {
		if !s.Properties[name].Type.Contains("string") {
			s.SetProperty(name, *spec.StringProperty())
		}
	}
}

// addEmbeddedTypeMeta gives every x-kubernetes-embedded-resource object below s its type
// meta, which the API server accepts there without the schema declaring it.
func addEmbeddedTypeMeta(s *spec.Schema) {
	for name, p := range s.Properties {
		if name == "metadata" && len(p.AllOf) > 0 {
			continue
		}
		addEmbeddedTypeMeta(&p)
		s.Properties[name] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		addEmbeddedTypeMeta(s.Items.Schema)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		addEmbeddedTypeMeta(s.AdditionalProperties.Schema)
	}
	if embedded, _ := s.Extensions.GetBool("x-kubernetes-embedded-resource"); embedded && len(s.Properties) > 0 {
		addTypeMeta(s)
	}
}

package schema

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/openapi"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// componentsRef prefixes every $ref of the OpenAPI v3 documents.
const componentsRef = "#/components/schemas/"

// TypeName is the CEL type name of a whole object of gvk: "apps.v1.Deployment",
// "v1.Service", "mcpruntime.org.v1alpha1.MCPServer". Versions and kinds hold no dots, so two
// kinds never share a name.
func TypeName(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version + "." + gvk.Kind
	}
	return gvk.Group + "." + gvk.Version + "." + gvk.Kind
}

// build makes the Kind with its CEL type: $refs inlined (a recursive one becomes an empty
// object, as in the API server), then apiserver's SchemaDeclType with isResourceRoot false
// so that metadata stays the full ObjectMeta instead of CRD validation's name and
// generateName.
func (e *entry) build(models map[string]*spec.Schema) (*Kind, error) {
	schemaOf := func(ref string) (*spec.Schema, bool) {
		name := strings.TrimPrefix(ref, componentsRef)
		if e.root != nil && name == e.model {
			return e.root, true
		}
		m, ok := models[name]
		return m, ok
	}
	resolved, err := resolver.PopulateRefs(schemaOf, e.model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvkString(e.gvk), err)
	}
	t := common.SchemaDeclType(celSchema{&openapi.Schema{Schema: resolved}}, false)
	if t == nil || !t.IsObject() {
		return nil, fmt.Errorf("%s: schema is not an object", gvkString(e.gvk))
	}
	return &Kind{GVK: e.gvk, Namespaced: e.namespaced, Type: t.MaybeAssignTypeName(TypeName(e.gvk)), CRD: e.crd}, nil
}

// celSchema adjusts three cases where SchemaDeclType, made for CRD validation rules, would
// hide a field the engine's templates need:
//   - a free-form object (x-kubernetes-preserve-unknown-fields, or an object that declares
//     no fields such as RawExtension, or a preserve-unknown embedded resource) would be an
//     empty object, or nothing without a type; it becomes dyn, like int-or-string, so any
//     access type-checks and is checked at run time.
//   - resource.Quantity is `oneOf: [string, number]` without a type in the v3 documents and
//     would be dropped; it becomes string, as in the API server's admission-policy CEL
//     (which reads the v2-style definitions), for use with quantity().
//   - everything nested is wrapped the same way.
type celSchema struct{ common.Schema }

var _ common.Schema = celSchema{}

// IsXIntOrString is the one hook SchemaDeclType has for dyn.
func (s celSchema) IsXIntOrString() bool {
	return s.Schema.IsXIntOrString() || s.freeForm()
}

func (s celSchema) freeForm() bool {
	t := s.Schema.Type()
	if t != "" && t != "object" {
		return false
	}
	if s.Schema.AdditionalProperties() != nil {
		return false
	}
	if s.Schema.IsXPreserveUnknownFields() {
		return len(s.Schema.Properties()) == 0 || s.Schema.IsXEmbeddedResource()
	}
	return t == "object" && len(s.Schema.Properties()) == 0
}

func (s celSchema) Type() string {
	if t := s.Schema.Type(); t != "" {
		return t
	}
	for _, o := range s.Schema.OneOf() {
		if o.Type() == "string" {
			return "string"
		}
	}
	return ""
}

func (s celSchema) Items() common.Schema { return wrap(s.Schema.Items()) }

func (s celSchema) Properties() map[string]common.Schema {
	props := s.Schema.Properties()
	for k, p := range props {
		props[k] = celSchema{p}
	}
	return props
}

func (s celSchema) AdditionalProperties() common.SchemaOrBool {
	ap := s.Schema.AdditionalProperties()
	if ap == nil {
		return nil
	}
	return celSchemaOrBool{ap}
}

func (s celSchema) WithTypeAndObjectMeta() common.Schema {
	return celSchema{s.Schema.WithTypeAndObjectMeta()}
}

type celSchemaOrBool struct{ common.SchemaOrBool }

func (s celSchemaOrBool) Schema() common.Schema { return wrap(s.SchemaOrBool.Schema()) }

func wrap(s common.Schema) common.Schema {
	if s == nil {
		return nil
	}
	return celSchema{s}
}

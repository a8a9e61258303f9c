package schema

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	celvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fielderr "k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Admit checks obj (defaults applied) as the API server checks an object it is asked to
// create or apply with strict field validation, and returns every violation; nil when the
// API server would take it. obj is not changed.
//
// A CRD kind goes through the API server's own validators, in its order: unknown fields
// (metadata by strict decoding, the rest by structural pruning; the checks below then see
// the object without them, as under the default field validation), metadata (names as DNS
// subdomains, labels, annotations), the OpenAPI schema (types, required fields, patterns,
// enums, bounds, formats), embedded resources, list types, then the x-kubernetes-validations
// CEL rules with the API server's cost budget, unless an earlier error blocks them as it
// does there. A built-in kind is checked against its OpenAPI schema, the only description of
// it loom has (the API server's Go validation checks more): the structure with
// structured-merge-diff first (Validate); when that holds, metadata, then required fields
// and formats. Duplicate fields are a decoder's business: engine/input reports them.
func (s *Set) Admit(ctx context.Context, obj map[string]any) *AdmissionError {
	e, err := s.lookupObject(obj)
	if err != nil {
		return &AdmissionError{Errs: fielderr.ErrorList{fielderr.Invalid(fielderr.NewPath("kind"), obj["kind"], err.Error())}}
	}
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	out := &AdmissionError{GVK: e.gvk, Name: name}
	obj = runtime.DeepCopyJSON(obj)
	if e.structural != nil {
		out.Errs = e.admitCustom(ctx, obj)
	} else {
		out.Errs = s.admitBuiltin(e, obj)
	}
	if len(out.Errs) == 0 {
		return nil
	}
	return out
}

// AdmitStatus checks status as the API server checks a write of instance's status
// subresource: instance (admitted already) with status in place, keeping the violations in
// status. nil when it would take it.
func (s *Set) AdmitStatus(ctx context.Context, instance, status map[string]any) *AdmissionError {
	obj := runtime.DeepCopyJSON(instance)
	obj["status"] = runtime.DeepCopyJSONValue(status)
	err := s.Admit(ctx, obj)
	if err == nil {
		return nil
	}
	var kept fielderr.ErrorList
	for _, fe := range err.Errs {
		if fe.Field == "status" || strings.HasPrefix(fe.Field, "status.") || strings.HasPrefix(fe.Field, "status[") {
			kept = append(kept, fe)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	err.Errs = kept
	return err
}

// AdmissionError is Admit's error: every reason the API server would refuse one object.
type AdmissionError struct {
	GVK  schema.GroupVersionKind
	Name string // metadata.name, when the object has one
	Errs fielderr.ErrorList
}

func (e *AdmissionError) Error() string {
	var b strings.Builder
	if !e.GVK.Empty() {
		b.WriteString(gvkString(e.GVK))
	}
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	fmt.Fprintf(&b, " would be refused by the API server (%d):", len(e.Errs))
	for _, fe := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// validators are what the API server builds from a CRD version's schema to check objects.
type validators struct {
	openapi apiextensionsvalidation.SchemaValidator
	cel     *celvalidation.Validator // nil: the schema has no x-kubernetes-validations
}

// crdValidators builds e's validators on first use: compiling the CEL rules is the costly
// part, and most kinds of a Set are never admitted.
func (e *entry) crdValidators() (*validators, error) {
	e.validatorsOnce.Do(func() {
		openapi, _, err := apiextensionsvalidation.NewSchemaValidator(e.props)
		if err != nil {
			e.validatorsErr = err
			return
		}
		e.validators = &validators{
			openapi: openapi,
			cel:     celvalidation.NewValidator(e.structural, true, celconfig.PerCallLimit),
		}
	})
	return e.validators, e.validatorsErr
}

// admitCustom is the API server's decoding and create validation of a custom resource
// (apiextensions-apiserver's schema coercer, then its create strategy), on obj, which it
// prunes.
func (e *entry) admitCustom(ctx context.Context, obj map[string]any) fielderr.ErrorList {
	v, err := e.crdValidators()
	if err != nil {
		return fielderr.ErrorList{fielderr.InternalError(nil, fmt.Errorf("%s: %w", e.source, err))}
	}
	var errs fielderr.ErrorList
	// Decoding: unknown fields are errors under strict field validation.
	_, _, unknownMeta, err := schemaobjectmeta.GetObjectMetaWithOptions(obj, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		errs = append(errs, fielderr.Invalid(fielderr.NewPath("metadata"), nil, err.Error()))
	}
	unknown := append(unknownMeta, pruning.PruneWithOptions(obj, e.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	if ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, obj, e.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true}); ferr != nil {
		errs = append(errs, ferr)
	} else {
		unknown = append(unknown, paths...)
	}
	sort.Strings(unknown)
	for _, p := range unknown {
		errs = append(errs, fielderr.Forbidden(fieldPath(p), "unknown field: the kind's schema does not declare it"))
	}
	// Under strict field validation the API server stops here; under the default (warn),
	// it drops those fields and goes on. Going on lists every problem at once.
	u := &unstructured.Unstructured{Object: obj}
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(u, e.namespaced, apivalidation.NameIsDNSSubdomain, fielderr.NewPath("metadata"))...)
	errs = append(errs, byField(apiextensionsvalidation.ValidateCustomResource(nil, obj, v.openapi))...)
	errs = append(errs, schemaobjectmeta.Validate(nil, obj, e.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, e.structural, obj)...)
	if v.cel != nil {
		if blocked := blocking(errs); blocked != nil {
			errs = append(errs, blocked)
		} else {
			celErrs, _ := v.cel.Validate(ctx, nil, e.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return errs
}

// blocking is the API server's rule for skipping CEL rules: after an error of one of these
// types, the rules could see values of the wrong type or shape.
func blocking(errs fielderr.ErrorList) *fielderr.Error {
	for _, e := range errs {
		switch e.Type {
		case fielderr.ErrorTypeNotSupported, fielderr.ErrorTypeRequired, fielderr.ErrorTypeTooLong, fielderr.ErrorTypeTooMany, fielderr.ErrorTypeTypeInvalid:
			return fielderr.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

// admitBuiltin checks obj against a built-in kind's OpenAPI schema.
func (s *Set) admitBuiltin(e *entry, obj map[string]any) fielderr.ErrorList {
	var errs fielderr.ErrorList
	if err := s.Validate(obj); err != nil {
		ve, ok := err.(*ValidationError)
		if !ok {
			return fielderr.ErrorList{fielderr.InternalError(nil, err)}
		}
		for _, fe := range ve.Fields {
			errs = append(errs, fielderr.Invalid(fieldPath(strings.TrimPrefix(fe.Path, ".")), fielderr.OmitValueType{}, fe.Message))
		}
		return errs // the API server could not decode it
	}
	nameRule := apivalidation.NameIsDNSSubdomain
	if e.gvk == (schema.GroupVersionKind{Version: "v1", Kind: "Service"}) {
		nameRule = apivalidation.NameIsDNS1035Label // a Service's name is a DNS name
	}
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(&unstructured.Unstructured{Object: obj}, e.namespaced, nameRule, fielderr.NewPath("metadata"))...)
	validator := s.builtin.openapiValidator(e)
	return append(errs, byField(apiextensionsvalidation.ValidateCustomResource(nil, obj, validator))...)
}

// byField sorts the OpenAPI validator's errors by field path: it reports them in the
// order it walks maps, which varies.
func byField(errs fielderr.ErrorList) fielderr.ErrorList {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// openapiValidator is the OpenAPI schema validator of a built-in kind, its $refs inlined.
func (b *builtinKinds) openapiValidator(e *entry) apiextensionsvalidation.SchemaValidator {
	e.validatorsOnce.Do(func() {
		root := inline(b.models[e.model], b.models, 0)
		e.validators = &validators{openapi: apiextensionsvalidation.NewSchemaValidatorFromOpenAPI(root)}
	})
	return e.validators.openapi
}

// maxInlineDepth bounds the inlining of $refs; no built-in kind nests this deep, and a
// deeper (recursive) schema accepts anything below it.
const maxInlineDepth = 40

// inline returns a copy of sch whose $refs to models are replaced by the models' schemas.
func inline(sch *spec.Schema, models map[string]*spec.Schema, depth int) *spec.Schema {
	if sch == nil || depth > maxInlineDepth {
		return &spec.Schema{}
	}
	if len(sch.AllOf) == 1 && len(sch.Type) == 0 && len(sch.Properties) == 0 {
		// allOf: [$ref] is how the documents attach a default or a nullable to a reference;
		// neither is validation, and the validator would report every failure twice.
		return inline(&sch.AllOf[0], models, depth+1)
	}
	out := *sch
	_ = stripFormat(&out)
	if ref := sch.Ref.String(); ref != "" {
		out.Ref = spec.Ref{}
		target, ok := models[strings.TrimPrefix(ref, componentsRef)]
		if !ok {
			return &out
		}
		return inline(target, models, depth+1)
	}
	list := func(in []spec.Schema) []spec.Schema {
		if in == nil {
			return nil
		}
		res := make([]spec.Schema, len(in))
		for i := range in {
			res[i] = *inline(&in[i], models, depth+1)
		}
		return res
	}
	out.AllOf, out.OneOf, out.AnyOf = list(sch.AllOf), list(sch.OneOf), list(sch.AnyOf)
	if sch.Properties != nil {
		out.Properties = make(map[string]spec.Schema, len(sch.Properties))
		for k, p := range sch.Properties {
			out.Properties[k] = *inline(&p, models, depth+1)
		}
	}
	if sch.Items != nil && sch.Items.Schema != nil {
		out.Items = &spec.SchemaOrArray{Schema: inline(sch.Items.Schema, models, depth+1)}
	}
	if sch.AdditionalProperties != nil && sch.AdditionalProperties.Schema != nil {
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: inline(sch.AdditionalProperties.Schema, models, depth+1)}
	}
	return &out
}

// stripFormat drops a format the API server does not check in CRD schemas (int-or-string,
// for one, which the validator would read as a string format).
var stripFormat = apiextensionsvalidation.StripUnsupportedFormatsPostProcessorForVersion(environment.DefaultCompatibilityVersion())

// fieldPath turns a path as the API server's pruning writes it ("spec.tools[0].x") into a
// fielderr.Path, which prints the same.
func fieldPath(p string) *fielderr.Path {
	if p == "" {
		return nil
	}
	return fielderr.NewPath(p)
}

// admitState is an entry's validators, built once.
type admitState struct {
	props          *apiextensions.JSONSchemaProps // a CRD version's schema, internal form
	validatorsOnce sync.Once
	validators     *validators
	validatorsErr  error
}

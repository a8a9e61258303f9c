package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// ErrUnknownKind is wrapped by the error for a kind that is neither built in nor added as a
// CRD.
var ErrUnknownKind = errors.New("unknown kind")

// Kind is one object kind the engine can type. Kinds are shared between callers (and, for
// built-in kinds, between Sets): treat them as read-only.
type Kind struct {
	GVK        schema.GroupVersionKind
	Namespaced bool
	// Type is the CEL type of a whole object of this kind: apiVersion, kind, the full
	// metadata (ObjectMeta), spec, status, data, ... Its name is TypeName(GVK), and the
	// names of nested object types extend it (e.g. "apps.v1.Deployment.spec"). Field names
	// are escaped as in the API server's CEL (namespace is __namespace__, a-b is a__dash__b);
	// a DeclTypeProvider with SetRecognizeKeywordAsFieldName(true) resolves `x.namespace`.
	Type *apiservercel.DeclType
	// CRD is the name of the CustomResourceDefinition that defines a CRD kind
	// (<plural>.<group>, e.g. certificates.cert-manager.io); empty for a built-in kind. It
	// tells a person which CRD to install when the cluster does not serve the kind.
	CRD string
}

// Set is the kinds one graph may use: the built-in ones and the CRDs added to it. It is safe
// for concurrent use.
type Set struct {
	builtin *builtinKinds

	mu   sync.Mutex
	crds map[schema.GroupVersionKind]*entry
	// tc covers built-in kinds and crds; nil until first asked for after an AddCRD.
	tc *typeConverter
}

// entry is one kind of a Set; its CEL type is built on first use.
type entry struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	model      string // the kind's schema name among the models
	// For a CRD kind: its OpenAPI model (metadata a $ref to ObjectMeta), its structural
	// schema for defaulting, and the file it came from.
	root       *spec.Schema
	structural *structuralschema.Structural
	source     string
	crd        string // the CRD's name, for a CRD kind
	// What Admit checks objects of this kind with.
	admitState

	once sync.Once
	kind *Kind
	err  error

	// The defaults of a CRD kind's schema, for Defaulted; built on first use.
	defaultsOnce sync.Once
	defaults     *defaultsTree
}

// Kind returns the kind's types, building its CEL type on the first call for that kind.
func (s *Set) Kind(gvk schema.GroupVersionKind) (*Kind, error) {
	e, err := s.lookup(gvk)
	if err != nil {
		return nil, err
	}
	e.once.Do(func() {
		e.kind, e.err = e.build(s.builtin.models)
	})
	return e.kind, e.err
}

// Default applies the OpenAPI defaults of a CRD kind's structural schema to obj in place, as
// the API server does on write: it drops nulls of non-nullable fields that have no default,
// then fills every absent defaulted field. Built-in kinds are left alone: the API server
// defaults them in Go code, of which their schemas' `default` values show only a part.
func (s *Set) Default(obj map[string]any) error {
	e, err := s.lookupObject(obj)
	if err != nil {
		return err
	}
	if e.structural == nil {
		return nil
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, e.structural)
	structuraldefaulting.Default(obj, e.structural)
	return nil
}

// TypeConverter covers the built-in kinds and every CRD added so far. It is built on first
// use and again after AddCRD; converters handed out earlier stay valid for the kinds they
// knew.
func (s *Set) TypeConverter() (managedfields.TypeConverter, error) {
	tc, err := s.converter()
	if err != nil {
		return nil, err
	}
	return tc, nil
}

func (s *Set) converter() (*typeConverter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.crds) == 0 {
		return s.builtin.typeConverter()
	}
	if s.tc != nil {
		return s.tc, nil
	}
	models := make(map[string]*spec.Schema, len(s.builtin.models)+len(s.crds))
	for name, m := range s.builtin.models {
		models[name] = m
	}
	for _, e := range s.crds {
		models[e.model] = e.root
	}
	tc, err := newTypeConverter(models)
	if err != nil {
		return nil, err
	}
	s.tc = tc
	return tc, nil
}

func (s *Set) lookup(gvk schema.GroupVersionKind) (*entry, error) {
	if e, ok := s.builtin.kinds[gvk]; ok {
		return e, nil
	}
	s.mu.Lock()
	e, ok := s.crds[gvk]
	s.mu.Unlock()
	if ok {
		return e, nil
	}
	return nil, s.unknown(gvk)
}

func (s *Set) lookupObject(obj map[string]any) (*entry, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, errors.New("object has no apiVersion or kind")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("object's apiVersion: %w", err)
	}
	return s.lookup(gv.WithKind(kind))
}

// unknown says which kinds of the same name exist, if any, and otherwise which group
// versions are built in, so the message stays short.
func (s *Set) unknown(gvk schema.GroupVersionKind) error {
	var similar []string
	groupVersions := map[string]bool{}
	note := func(k schema.GroupVersionKind) {
		if strings.EqualFold(k.Kind, gvk.Kind) {
			similar = append(similar, gvkString(k))
		}
	}
	for k := range s.builtin.kinds {
		note(k)
		groupVersions[k.GroupVersion().String()] = true
	}
	s.mu.Lock()
	for k := range s.crds {
		note(k)
	}
	s.mu.Unlock()
	msg := fmt.Sprintf("%s: neither built in nor given as a CRD", gvkString(gvk))
	if len(similar) > 0 {
		sort.Strings(similar)
		return fmt.Errorf("%w %s; known kinds of that name: %s", ErrUnknownKind, msg, strings.Join(similar, ", "))
	}
	gvs := make([]string, 0, len(groupVersions))
	for gv := range groupVersions {
		gvs = append(gvs, gv)
	}
	sort.Strings(gvs)
	return fmt.Errorf("%w %s (built-in group versions: %s)", ErrUnknownKind, msg, strings.Join(gvs, ", "))
}

// gvkString is how errors name a kind: "apps/v1 Deployment", "v1 Service".
func gvkString(gvk schema.GroupVersionKind) string {
	return gvk.GroupVersion().String() + " " + gvk.Kind
}

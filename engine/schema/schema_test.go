package schema

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

var (
	deployment = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	widget     = schema.GroupVersionKind{Group: "test.loom.dev", Version: "v1alpha1", Kind: "Widget"}
)

func builtin(t testing.TB) *Set {
	t.Helper()
	s, err := Builtin()
	require.NoError(t, err)
	return s
}

// withWidget is a built-in Set with testdata/widget-crd.yaml added.
func withWidget(t testing.TB) *Set {
	t.Helper()
	s := builtin(t)
	data, err := os.ReadFile("testdata/widget-crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(data, "testdata/widget-crd.yaml")
	require.NoError(t, err)
	return s
}

// field walks t along path: field names for objects (escaped as CEL escapes them), "@idx" into a list's items, "@elem"
// into a map's values.
func field(t *testing.T, typ *apiservercel.DeclType, path string) *apiservercel.DeclType {
	t.Helper()
	for _, p := range strings.Split(path, ".") {
		switch {
		case p == "@idx":
			require.True(t, typ.IsList(), "%s: %s is no list", path, typ.TypeName())
			typ = typ.ElemType
		case p == "@elem":
			require.True(t, typ.IsMap(), "%s: %s is no map", path, typ.TypeName())
			typ = typ.ElemType
		default:
			name, ok := apiservercel.Escape(p)
			require.True(t, ok, p)
			f, ok := typ.FindField(name)
			require.True(t, ok, "%s: %s has no field %s", path, typ.TypeName(), p)
			typ = f.Type
		}
	}
	return typ
}

func TestBuiltinKinds(t *testing.T) {
	s := builtin(t)
	for _, tc := range []struct {
		gvk        schema.GroupVersionKind
		namespaced bool
	}{
		{deployment, true},
		{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, true},
		{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, true},
		{schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, true},
		{schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}, true},
		{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, false},
		{schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolume"}, false},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, true},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "IngressClass"}, false},
		{schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}, true},
		{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, true},
		{schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}, true},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, false},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}, false},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}, true},
	} {
		t.Run(gvkString(tc.gvk), func(t *testing.T) {
			k, err := s.Kind(tc.gvk)
			require.NoError(t, err)
			assert.Equal(t, tc.gvk, k.GVK)
			assert.Equal(t, tc.namespaced, k.Namespaced)
			assert.Equal(t, TypeName(tc.gvk), k.Type.TypeName())
			assert.Empty(t, k.CRD, "a built-in kind has no CRD")
			for _, f := range []string{"apiVersion", "kind"} {
				assert.Equal(t, cel.StringType, field(t, k.Type, f).CelType())
			}
		})
	}
	// List kinds and option kinds carry a group-version-kind too, but no one applies them.
	_, err := s.Kind(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DeploymentList"})
	assert.ErrorIs(t, err, ErrUnknownKind)
}

func TestBuiltinShared(t *testing.T) {
	a, b := builtin(t), builtin(t)
	assert.NotSame(t, a, b)
	assert.Same(t, a.builtin, b.builtin)
	ka, err := a.Kind(deployment)
	require.NoError(t, err)
	kb, err := b.Kind(deployment)
	require.NoError(t, err)
	assert.Same(t, ka, kb, "a built-in kind's type is built once per process")
}

func TestDeclTypes(t *testing.T) {
	s := withWidget(t)
	core := func(kind string) schema.GroupVersionKind { return schema.GroupVersionKind{Version: "v1", Kind: kind} }
	stringMap := func(t *testing.T, typ *apiservercel.DeclType) {
		require.True(t, typ.IsMap(), typ.TypeName())
		assert.Equal(t, cel.StringType, typ.KeyType.CelType())
		assert.Equal(t, cel.StringType, typ.ElemType.CelType())
	}
	is := func(want *cel.Type) func(*testing.T, *apiservercel.DeclType) {
		return func(t *testing.T, typ *apiservercel.DeclType) { assert.Equal(t, want, typ.CelType()) }
	}
	listOfObjects := func(t *testing.T, typ *apiservercel.DeclType) {
		require.True(t, typ.IsList(), typ.TypeName())
		assert.True(t, typ.ElemType.IsObject(), typ.ElemType.TypeName())
	}
	for _, tc := range []struct {
		gvk   schema.GroupVersionKind
		path  string
		check func(*testing.T, *apiservercel.DeclType)
	}{
		{deployment, "spec.replicas", is(cel.IntType)},
		{deployment, "spec.template.spec.containers", listOfObjects},
		{deployment, "spec.template.spec.containers.@idx.image", is(cel.StringType)},
		{deployment, "spec.template.spec.containers.@idx.ports.@idx.containerPort", is(cel.IntType)},
		// Quantities are strings, as in the API server's admission-policy CEL.
		{deployment, "spec.template.spec.containers.@idx.resources.limits", stringMap},
		{deployment, "spec.strategy.rollingUpdate.maxSurge", is(cel.DynType)},
		{deployment, "status.availableReplicas", is(cel.IntType)},
		{deployment, "spec", func(t *testing.T, typ *apiservercel.DeclType) {
			assert.Equal(t, "apps.v1.Deployment.spec", typ.TypeName())
		}},
		// Full ObjectMeta, not CRD validation's name and generateName.
		{deployment, "metadata.labels", stringMap},
		{deployment, "metadata.annotations", stringMap},
		{deployment, "metadata.namespace", is(cel.StringType)}, // the field is __namespace__
		{deployment, "metadata.ownerReferences.@idx.uid", is(cel.StringType)},
		{deployment, "metadata.creationTimestamp", is(cel.TimestampType)},
		{deployment, "metadata.generation", is(cel.IntType)},
		{core("Service"), "spec.ports.@idx.targetPort", is(cel.DynType)},
		{core("Service"), "spec.ports.@idx.port", is(cel.IntType)},
		{core("Service"), "spec.selector", stringMap},
		{core("ConfigMap"), "data", stringMap},
		{core("Secret"), "data.@elem", is(cel.BytesType)},
		{core("Secret"), "stringData", stringMap},
		{core("ServiceAccount"), "automountServiceAccountToken", is(cel.BoolType)},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, "status.loadBalancer.ingress", listOfObjects},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, "status.loadBalancer.ingress.@idx.ip", is(cel.StringType)},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, "spec.rules.@idx.http.paths.@idx.backend.service.port.number", is(cel.IntType)},
		{schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}, "spec.maxReplicas", is(cel.IntType)},
		{schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}, "spec.metrics.@idx.resource.target.averageUtilization", is(cel.IntType)},
		// A free-form object (RawExtension) is dyn.
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ControllerRevision"}, "data", is(cel.DynType)},

		{widget, "spec.replicas", is(cel.IntType)},
		{widget, "spec.mode", is(cel.StringType)},
		{widget, "spec.port", is(cel.DynType)},
		{widget, "spec.resources.cpu", is(cel.StringType)},
		{widget, "spec.env.@idx.name", is(cel.StringType)},
		{widget, "spec.labels", stringMap},
		{widget, "spec.config", is(cel.DynType)},
		{widget, "spec.template", is(cel.DynType)},
		{widget, "status.ready", is(cel.BoolType)},
		{widget, "metadata.labels", stringMap},
		{widget, "metadata.ownerReferences", listOfObjects},
		{widget, "spec", func(t *testing.T, typ *apiservercel.DeclType) {
			assert.Equal(t, "test.loom.dev.v1alpha1.Widget.spec", typ.TypeName())
		}},
	} {
		t.Run(tc.gvk.Kind+"."+tc.path, func(t *testing.T) {
			k, err := s.Kind(tc.gvk)
			require.NoError(t, err)
			tc.check(t, field(t, k.Type, tc.path))
		})
	}
}

func TestDeclTypeEnumAndDefault(t *testing.T) {
	k, err := withWidget(t).Kind(widget)
	require.NoError(t, err)
	spec, ok := k.Type.FindField("spec")
	require.True(t, ok)
	mode, ok := spec.Type.FindField("mode")
	require.True(t, ok)
	assert.Len(t, mode.EnumValues(), 2)
	assert.Equal(t, "safe", mode.DefaultValue().Value())
	image, ok := spec.Type.FindField("image")
	require.True(t, ok)
	assert.True(t, image.Required)
}

func TestUnknownKind(t *testing.T) {
	s := withWidget(t)
	for _, tc := range []struct {
		gvk  schema.GroupVersionKind
		want string
	}{
		{
			schema.GroupVersionKind{Group: "apps", Version: "v1beta1", Kind: "Deployment"},
			"unknown kind apps/v1beta1 Deployment: neither built in nor given as a CRD; known kinds of that name: apps/v1 Deployment",
		},
		{
			schema.GroupVersionKind{Group: "test.loom.dev", Version: "v2", Kind: "widget"},
			"unknown kind test.loom.dev/v2 widget: neither built in nor given as a CRD; known kinds of that name: test.loom.dev/v1alpha1 Widget, test.loom.dev/v1beta1 Widget",
		},
		{
			schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Gadget"},
			"unknown kind example.com/v1 Gadget: neither built in nor given as a CRD (built-in group versions: apps/v1, ",
		},
	} {
		t.Run(tc.gvk.Kind, func(t *testing.T) {
			_, err := s.Kind(tc.gvk)
			require.ErrorIs(t, err, ErrUnknownKind)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
			assert.Less(t, len(err.Error()), 400)
		})
	}
}

func TestAddCRD(t *testing.T) {
	data, err := os.ReadFile("testdata/widget-crd.yaml")
	require.NoError(t, err)
	s := builtin(t)
	gvks, err := s.AddCRD(data, "widget-crd.yaml")
	require.NoError(t, err)
	assert.Equal(t, []schema.GroupVersionKind{widget, {Group: "test.loom.dev", Version: "v1beta1", Kind: "Widget"}}, gvks,
		"every served version, and only those")
	k, err := s.Kind(widget)
	require.NoError(t, err)
	assert.True(t, k.Namespaced)
	assert.Equal(t, "test.loom.dev.v1alpha1.Widget", k.Type.TypeName())
	assert.Equal(t, "widgets.test.loom.dev", k.CRD, "the CRD to install when the cluster lacks the kind")

	// JSON works as well as YAML.
	asJSON, err := yaml.YAMLToJSON(data)
	require.NoError(t, err)
	_, err = builtin(t).AddCRD(asJSON, "widget-crd.json")
	require.NoError(t, err)

	// The other Sets never see it.
	_, err = builtin(t).Kind(widget)
	assert.ErrorIs(t, err, ErrUnknownKind)

	crd := func(group, kind, schema string) []byte {
		return []byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: x}
spec:
  group: ` + group + `
  scope: Cluster
  names: {plural: xs, kind: ` + kind + `}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: ` + schema)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"twice", data, "bad.yaml: test.loom.dev/v1alpha1 Widget was already added from widget-crd.yaml"},
		{"built in", crd("apps", "Deployment", "{type: object}"), "bad.yaml: apps/v1 Deployment is a built-in kind"},
		{"not structural", crd("x.dev", "X", "{type: object, properties: {spec: {properties: {a: {type: string}}}}}"),
			"bad.yaml: spec.versions[0] (v1): schema is not structural: "},
		{"no schema", crd("x.dev", "X", "null"), "bad.yaml: spec.versions[0] (v1): no schema.openAPIV3Schema"},
		{"not a CRD", []byte("apiVersion: v1\nkind: ConfigMap\n"), `bad.yaml: want apiVersion apiextensions.k8s.io/v1, kind CustomResourceDefinition; got "v1", "ConfigMap"`},
		{"not YAML", []byte("{"), "bad.yaml: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.AddCRD(tc.data, "bad.yaml")
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
		})
	}
	// A cluster-scoped CRD.
	gvks, err = s.AddCRD(crd("x.dev", "X", "{type: object}"), "x.yaml")
	require.NoError(t, err)
	k, err = s.Kind(gvks[0])
	require.NoError(t, err)
	assert.False(t, k.Namespaced)
}

func TestDefault(t *testing.T) {
	s := withWidget(t)
	obj := map[string]any{
		"apiVersion": "test.loom.dev/v1alpha1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": "w"},
		"spec": map[string]any{
			"image":    "ghcr.io/x/y:1",
			"mode":     "fast",
			"replicas": nil, // a null without nullable is defaulted
		},
	}
	require.NoError(t, s.Default(obj))
	assert.Equal(t, map[string]any{
		"image":     "ghcr.io/x/y:1",
		"mode":      "fast",
		"replicas":  int64(1),
		"port":      "http",
		"resources": map[string]any{"cpu": "100m"},
	}, obj["spec"])

	// Built-in kinds have no schema defaults.
	dep := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "spec": map[string]any{}}
	require.NoError(t, s.Default(dep))
	assert.Equal(t, map[string]any{}, dep["spec"])

	assert.ErrorIs(t, s.Default(map[string]any{"apiVersion": "x.dev/v1", "kind": "Nope"}), ErrUnknownKind)
	assert.EqualError(t, s.Default(map[string]any{"kind": "Widget"}), "object has no apiVersion or kind")
}

const validDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
  ownerReferences:
  - {apiVersion: test.loom.dev/v1alpha1, kind: Widget, name: w, uid: "1234", controller: true}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080, name: http}]
        resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 0.1}}
        env: [{name: A, value: "1"}]
`

func object(t *testing.T, doc string, edits ...func(map[string]any)) map[string]any {
	t.Helper()
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(doc), &obj))
	for _, edit := range edits {
		edit(obj)
	}
	return obj
}

func set(path string, v any) func(map[string]any) {
	return func(obj map[string]any) {
		parts := strings.Split(path, ".")
		cur := obj
		for _, p := range parts[:len(parts)-1] {
			switch next := cur[p].(type) {
			case map[string]any:
				cur = next
			case []any:
				cur = next[0].(map[string]any)
			}
		}
		cur[parts[len(parts)-1]] = v
	}
}

func TestValidate(t *testing.T) {
	s := withWidget(t)
	const widgetDoc = `
apiVersion: test.loom.dev/v1alpha1
kind: Widget
metadata: {name: w, labels: {a: b}}
spec:
  image: x
  port: 8080
  env: [{name: A, value: b}]
  config: {anything: [1, {goes: true}]}
  template: {apiVersion: v1, kind: ConfigMap, data: {a: b}}
`
	for _, tc := range []struct {
		name string
		obj  map[string]any
		want []FieldError // nil: valid
	}{
		{name: "valid deployment", obj: object(t, validDeployment)},
		{name: "valid widget", obj: object(t, widgetDoc)},
		{name: "widget port as string", obj: object(t, widgetDoc, set("spec.port", "http"))},
		{
			name: "unknown container field",
			obj:  object(t, validDeployment, set("spec.template.spec.containers.bogus", true)),
			want: []FieldError{{`.spec.template.spec.containers[name="web"].bogus`, "field not declared in schema"}},
		},
		{
			name: "string for int and unknown top-level field",
			obj:  object(t, validDeployment, set("spec.replicas", "two"), set("spec.replica", 2)),
			want: []FieldError{
				{".spec.replica", "field not declared in schema"},
				{".spec.replicas", `expected number, got string "two"`},
			},
		},
		{
			// structured-merge-diff alone reports one of these, a different one each time.
			name: "every unknown field of one object",
			obj:  object(t, validDeployment, set("spec.a", 1), set("spec.b", 2), set("spec.c", 3), set("spec.paused", "yes")),
			want: []FieldError{
				{".spec.a", "field not declared in schema"},
				{".spec.b", "field not declared in schema"},
				{".spec.c", "field not declared in schema"},
				{".spec.paused", `expected boolean, got string "yes"`},
			},
		},
		{
			name: "object where a scalar belongs, in a keyed list item",
			obj:  object(t, validDeployment, set("spec.template.spec.containers.image", map[string]any{"repo": "x"})),
			want: []FieldError{{`.spec.template.spec.containers[name="web"].image`, "expected string, got object"}},
		},
		{
			name: "list where a map belongs",
			obj:  object(t, validDeployment, set("metadata.labels", []any{"a"})),
			want: []FieldError{{".metadata.labels", "expected object, got list"}},
		},
		{
			name: "duplicate list-map key",
			obj: object(t, validDeployment, set("spec.template.spec.containers", []any{
				map[string]any{"name": "a", "image": "x"}, map[string]any{"name": "a", "image": "y"},
			})),
			want: []FieldError{{".spec.template.spec.containers", `duplicate entries for key [name="a"]`}},
		},
		{
			name: "unknown widget field",
			obj:  object(t, widgetDoc, set("spec.colour", "red")),
			want: []FieldError{{".spec.colour", "field not declared in schema"}},
		},
		{
			name: "unknown metadata field in a CRD kind",
			obj:  object(t, widgetDoc, set("metadata.labelz", map[string]any{})),
			want: []FieldError{{".metadata.labelz", "field not declared in schema"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(tc.obj)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var verr *ValidationError
			require.ErrorAs(t, err, &verr, "%v", err)
			assert.Equal(t, tc.want, verr.Fields)
			assert.Equal(t, tc.obj["kind"], verr.GVK.Kind)
		})
	}

	err := s.Validate(object(t, validDeployment, set("spec.replicas", "two")))
	assert.EqualError(t, err, `apps/v1 Deployment "web" does not fit its schema:
  .spec.replicas: expected number, got string "two"`)
	assert.ErrorIs(t, s.Validate(map[string]any{"apiVersion": "v1", "kind": "Nope"}), ErrUnknownKind)
}

func TestTypeConverter(t *testing.T) {
	s := builtin(t)
	before, err := s.TypeConverter()
	require.NoError(t, err)
	obj := &unstructured.Unstructured{Object: object(t, validDeployment)}
	tv, err := before.ObjectToTyped(obj)
	require.NoError(t, err)
	fields, err := tv.ToFieldSet()
	require.NoError(t, err)
	assert.Contains(t, fields.String(), `.spec.template.spec.containers[name="web"].image`)
	back, err := before.TypedToObject(tv)
	require.NoError(t, err)
	assert.Equal(t, obj.Object, back.(*unstructured.Unstructured).Object)

	data, err := os.ReadFile("testdata/widget-crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(data, "widget-crd.yaml")
	require.NoError(t, err)
	after, err := s.TypeConverter()
	require.NoError(t, err)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.loom.dev/v1alpha1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"},
		"spec":     map[string]any{"image": "x", "env": []any{map[string]any{"name": "A"}}},
	}}
	tv, err = after.ObjectToTyped(w)
	require.NoError(t, err)
	fields, err = tv.ToFieldSet()
	require.NoError(t, err)
	assert.Contains(t, fields.String(), `.spec.env[name="A"].name`, "list-map keys come from the CRD")
	_, err = before.ObjectToTyped(w)
	assert.Error(t, err, "a converter handed out earlier knows only the kinds of its time")
	again, err := s.TypeConverter()
	require.NoError(t, err)
	assert.Same(t, after, again)
}

func TestDecodeBuiltinErrors(t *testing.T) {
	_, err := decodeBuiltin([]byte("not gzip"))
	assert.ErrorContains(t, err, "built-in kinds: ")
	_, err = decodeBuiltin(builtinData)
	assert.NoError(t, err)
}

// TestWireSchemaFaithful checks the fast decoding against spec.Schema's own.
func TestWireSchemaFaithful(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(builtinData))
	require.NoError(t, err)
	var doc struct {
		Schemas map[string]*spec.Schema `json:"schemas"`
	}
	require.NoError(t, json.NewDecoder(zr).Decode(&doc))
	b, err := decodeBuiltin(builtinData)
	require.NoError(t, err)
	require.Equal(t, len(doc.Schemas), len(b.models))
	for name, want := range doc.Schemas {
		assert.Equal(t, want, b.models[name], name)
	}
}

func BenchmarkDecodeBuiltin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeBuiltin(builtinData); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKindDeployment measures building the Deployment's CEL type (PodSpec and all):
// what the first Kind(apps/v1 Deployment) of a process costs.
func BenchmarkKindDeployment(b *testing.B) {
	s := builtin(b)
	e := s.builtin.kinds[deployment]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.build(s.builtin.models); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTypeConverterBuiltin(b *testing.B) {
	s := builtin(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (&builtinKinds{models: s.builtin.models}).typeConverter(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateDeployment(b *testing.B) {
	s := builtin(b)
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(validDeployment), &obj); err != nil {
		b.Fatal(err)
	}
	if err := s.Validate(obj); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleSet_Kind() {
	s, err := Builtin()
	if err != nil {
		panic(err)
	}
	k, err := s.Kind(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
	if err != nil {
		panic(err)
	}
	spec, _ := k.Type.FindField("spec")
	replicas, _ := spec.Type.FindField("replicas")
	fmt.Println(k.Type.TypeName(), k.Namespaced, replicas.Type.CelType())
	// Output: apps.v1.Deployment true int
}

// TestCELCompile type-checks expressions against the kinds' types the way the engine will:
// one DeclTypeProvider over several kinds (their type names must not collide) that
// recognizes keywords such as namespace as field names.
func TestCELCompile(t *testing.T) {
	s := withWidget(t)
	vars := map[string]schema.GroupVersionKind{
		"deployment": deployment,
		"job":        {Group: "batch", Version: "v1", Kind: "Job"},
		"service":    {Version: "v1", Kind: "Service"},
		"schema":     widget,
	}
	var types []*apiservercel.DeclType
	var opts []cel.EnvOption
	for name, gvk := range vars {
		k, err := s.Kind(gvk)
		require.NoError(t, err)
		types = append(types, k.Type)
		opts = append(opts, cel.Variable(name, k.Type.CelType()))
	}
	provider := apiservercel.NewDeclTypeProvider(types...)
	provider.SetRecognizeKeywordAsFieldName(true)
	env, err := cel.NewEnv(cel.OptionalTypes())
	require.NoError(t, err)
	providerOpts, err := provider.EnvOptions(env.CELTypeProvider())
	require.NoError(t, err)
	env, err = env.Extend(append(providerOpts, opts...)...)
	require.NoError(t, err)

	for _, tc := range []struct {
		expr string
		want *cel.Type // nil: must not compile
	}{
		{"deployment.spec.replicas + 1", cel.IntType},
		{"deployment.metadata.namespace", cel.StringType},
		{"deployment.metadata.labels['app']", cel.StringType},
		{"job.spec.template.spec.containers[0].image", cel.StringType},
		{"deployment.status.?availableReplicas.orValue(0) >= schema.spec.replicas", cel.BoolType},
		{"service.spec.ports[0].targetPort", cel.DynType},
		{"schema.spec.config.anything.goes", cel.DynType},
		{"schema.metadata.ownerReferences.size()", cel.IntType},
		{"deployment.spec.replicas + 'x'", nil},
		{"deployment.spec.bogus", nil},
		{"schema.spec.mode == 1", nil},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			ast, iss := env.Compile(tc.expr)
			if tc.want == nil {
				assert.Error(t, iss.Err())
				return
			}
			require.NoError(t, iss.Err())
			assert.Equal(t, tc.want.String(), ast.OutputType().String())
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	s := builtin(t)
	data, err := os.ReadFile("testdata/widget-crd.yaml")
	require.NoError(t, err)
	done := make(chan error, 4)
	go func() { _, err := s.AddCRD(data, "widget-crd.yaml"); done <- err }()
	for range 3 {
		go func() {
			if _, err := s.Kind(deployment); err != nil {
				done <- err
				return
			}
			var obj map[string]any
			_ = yaml.Unmarshal([]byte(validDeployment), &obj)
			done <- s.Validate(obj)
		}()
	}
	for range 4 {
		assert.NoError(t, <-done)
	}
}

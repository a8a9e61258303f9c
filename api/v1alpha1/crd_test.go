package v1alpha1_test

// These tests check the generated CRD offline with the API server's own validators, in
// the order the API server runs them on a create: prune unknown fields (kubectl's
// strict field validation turns them into errors), apply OpenAPI defaults, then the
// OpenAPI schema, list-type and CEL validators. A rule that passes here is enforced
// the same way by a real API server, with no cluster needed.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/api/v1alpha1"
)

const crdName = "mcpservers.mcpruntime.org"

// admission is the MCPServer CRD, loaded from config/crd and compiled into the
// validators the API server builds for it.
type admission struct {
	crd        *apiextensions.CustomResourceDefinition
	structural *structuralschema.Structural
	openapi    validation.SchemaValidator
	cel        *cel.Validator
}

func loadCRD(t *testing.T) *admission {
	t.Helper()
	return loadCRDNamed(t, crdName)
}

// loadCRDNamed is loadCRD for any CRD of config/crd.
func loadCRDNamed(t *testing.T, crdName string) *admission {
	t.Helper()
	files, err := filepath.Glob("../../config/crd/*.yaml")
	require.NoError(t, err)
	var found *apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var crd apiextensionsv1.CustomResourceDefinition
		require.NoError(t, yaml.Unmarshal(data, &crd), f)
		if crd.Kind == "CustomResourceDefinition" && crd.Name == crdName {
			found = &crd
		}
	}
	require.NotNil(t, found, "no CRD %s in config/crd (run make generate)", crdName)

	// The API server defaults a CRD as it decodes it and validates the internal form.
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(found)
	internal := &apiextensions.CustomResourceDefinition{}
	require.NoError(t, apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(found, internal, nil))
	require.Len(t, internal.Spec.Versions, 1)
	// The internal form hoists a schema shared by all versions to spec.validation.
	validationSchema := internal.Spec.Validation
	if v := internal.Spec.Versions[0]; v.Schema != nil {
		validationSchema = v.Schema
	}
	require.NotNil(t, validationSchema)
	props := validationSchema.OpenAPIV3Schema

	s, err := structuralschema.NewStructural(props)
	require.NoError(t, err)
	openapi, _, err := validation.NewSchemaValidator(props)
	require.NoError(t, err)
	celValidator := cel.NewValidator(s, true, celconfig.PerCallLimit)
	require.NotNil(t, celValidator, "the CRD has x-kubernetes-validations, so a CEL validator is expected")
	return &admission{crd: internal, structural: s, openapi: openapi, cel: celValidator}
}

// create runs obj through what the API server does on create, mutating obj in place
// (pruning and defaults), and returns every error it would report.
func (a *admission) create(obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	unknown := pruning.PruneWithOptions(obj, a.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range unknown {
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field (rejected by strict field validation, pruned otherwise)"))
	}
	defaulting.Default(obj, a.structural)
	errs = append(errs, validation.ValidateCustomResource(nil, obj, a.openapi)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, a.structural, obj)...)
	celErrs, _ := a.cel.Validate(context.Background(), nil, a.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// decode turns YAML into the untyped form the API server validates: integers stay
// int64, as the API server's JSON decoder keeps them.
func decode(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	data, err := yaml.YAMLToJSON(doc)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, utiljson.Unmarshal(data, &obj))
	return obj
}

// server builds an MCPServer named name whose spec is the YAML block spec.
func server(t *testing.T, name, spec string) map[string]any {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata:\n  name: %s\nspec:\n", name)
	for _, line := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return decode(t, []byte(b.String()))
}

func TestCRDAcceptedByAPIServer(t *testing.T) {
	a := loadCRD(t)
	crd := a.crd.DeepCopy()
	// The API server's create strategy records the storage version before validating.
	crd.Status.StoredVersions = []string{crd.Spec.Versions[0].Name}
	// This is the check the API server runs when the CRD is created: structural schema,
	// defaults that survive pruning and validate, CEL compilation, and the per-rule and
	// per-CRD estimated cost limits.
	errs := crdvalidation.ValidateCustomResourceDefinition(context.Background(), crd)
	assert.Empty(t, errs, "the API server would reject the CRD")
}

func TestCRDNamesAndColumns(t *testing.T) {
	a := loadCRD(t)
	assert.Equal(t, v1alpha1.GroupVersion.Group, a.crd.Spec.Group)
	assert.Equal(t, []string{"mcps"}, a.crd.Spec.Names.ShortNames)
	assert.Equal(t, apiextensions.NamespaceScoped, a.crd.Spec.Scope)
	v := a.crd.Spec.Versions[0]
	assert.Equal(t, v1alpha1.GroupVersion.Version, v.Name)
	// With one version, the internal form hoists these to the CRD spec.
	subresources, columns := a.crd.Spec.Subresources, a.crd.Spec.AdditionalPrinterColumns
	if v.Subresources != nil {
		subresources = v.Subresources
	}
	if len(v.AdditionalPrinterColumns) > 0 {
		columns = v.AdditionalPrinterColumns
	}
	require.NotNil(t, subresources)
	assert.NotNil(t, subresources.Status, "status must be a subresource so users cannot write it")
	var cols []string
	for _, c := range columns {
		cols = append(cols, c.Name+"="+c.JSONPath)
	}
	assert.Equal(t, []string{
		"Team=.spec.teamID",
		"Phase=.status.phase",
		`Ready=.status.conditions[?(@.type=="Ready")].status`,
		"URL=.status.url",
		"Age=.metadata.creationTimestamp",
	}, cols)
}

// TestInvalidSpecsAreRejected holds every rule loom's CRD enforces. Each is a rule of MCP
// Runtime's CRD or admission webhooks (after its defaulting), except the name rule, which
// loom keeps on purpose (README: "Where loom differs from MCP Runtime on purpose").
// admission_test.go holds the other side: manifests MCP Runtime admits, at these edges.
func TestInvalidSpecsAreRejected(t *testing.T) {
	a := loadCRD(t)
	const gateway = "gateway: {enabled: true, image: g}"
	cases := []struct {
		name  string
		obj   string // MCPServer name; "demo" when empty
		spec  string
		field string // path of the expected error
		msg   string // substring of the expected error
	}{
		{name: "image missing", spec: "teamID: t", field: "spec.image", msg: "Required value"},
		{name: "image empty", spec: `image: ""`, field: "spec.image", msg: "at least 1 chars long"},
		{name: "teamID with a space", spec: "image: i\nteamID: 'team a'", field: "spec.teamID", msg: "teamID must not contain spaces, tabs or line breaks"},
		{name: "teamID with a tab", spec: "image: i\nteamID: \"team\\ta\"", field: "spec.teamID", msg: "teamID must not contain spaces, tabs or line breaks"},
		{name: "teamID with a line break", spec: "image: i\nteamID: \"team\\n\"", field: "spec.teamID", msg: "teamID must not contain spaces, tabs or line breaks"},
		{name: "teamID with a leading space", spec: "image: i\nteamID: ' team'", field: "spec.teamID", msg: "teamID must not contain spaces, tabs or line breaks"},
		{name: "teamID too long", spec: "image: i\nteamID: " + strings.Repeat("t", 129), field: "spec.teamID", msg: "teamID must be at most 128 characters"},
		{name: "gateway port equals default port", spec: "image: i\ngateway: {enabled: true, port: 8088}", field: "spec.gateway.port", msg: "gateway.port must differ from spec.port"},
		{name: "gateway default port equals port", spec: "image: i\nport: 8091\ngateway: {enabled: true}", field: "spec.gateway.port", msg: "gateway.port must differ from spec.port"},
		{name: "gateway port 0 is 8091", spec: "image: i\nport: 8091\ngateway: {enabled: true, port: 0}", field: "spec.gateway.port", msg: "gateway.port must differ from spec.port"},
		{name: "port 0 is 8088", spec: "image: i\nport: 0\ngateway: {enabled: true, port: 8088}", field: "spec.gateway.port", msg: "gateway.port must differ from spec.port"},
		{name: "oauth with the gateway without issuerURL", spec: "image: i\n" + gateway + "\nauth: {mode: oauth}", field: "spec.auth.issuerURL", msg: "auth.issuerURL is required when auth.mode is oauth and the gateway is enabled"},
		{name: "oauth with the gateway and a blank issuerURL", spec: "image: i\n" + gateway + "\nauth: {mode: oauth, issuerURL: '  '}", field: "spec.auth.issuerURL", msg: "auth.issuerURL is required"},
		{name: "mtls without trustDomain", spec: "image: i\n" + gateway + "\nauth: {mode: mtls}", field: "spec.auth.trustDomain", msg: "auth.trustDomain is required when auth.mode is mtls"},
		{name: "mtls with a blank trustDomain", spec: "image: i\n" + gateway + "\nauth: {mode: mtls, trustDomain: ' '}", field: "spec.auth.trustDomain", msg: "auth.trustDomain is required"},
		{name: "canary without canaryReplicas", spec: "image: i\nreplicas: 3\nrollout: {strategy: Canary}", field: "spec.rollout.canaryReplicas", msg: "must be greater than 0 when rollout.strategy is Canary"},
		{name: "canary with zero canaryReplicas", spec: "image: i\nreplicas: 3\nrollout: {strategy: Canary, canaryReplicas: 0}", field: "spec.rollout.canaryReplicas", msg: "must be greater than 0"},
		{name: "canary with negative canaryReplicas", spec: "image: i\nreplicas: 3\nrollout: {strategy: Canary, canaryReplicas: -1}", field: "spec.rollout.canaryReplicas", msg: "must be greater than 0"},
		{name: "canary replicas equal replicas", spec: "image: i\nreplicas: 2\nrollout: {strategy: Canary, canaryReplicas: 2}", field: "spec.rollout.canaryReplicas", msg: "must be less than spec.replicas"},
		{name: "canary against default replicas", spec: "image: i\nrollout: {strategy: Canary, canaryReplicas: 1}", field: "spec.rollout.canaryReplicas", msg: "must be less than spec.replicas"},
		{name: "unknown auth mode", spec: "image: i\nauth: {mode: basic}", field: "spec.auth.mode", msg: "must be none, header, oauth or mtls"},
		{name: "unknown policy mode", spec: "image: i\npolicy: {mode: enforce}", field: "spec.policy.mode", msg: "must be allow-list or observe"},
		{name: "unknown default decision", spec: "image: i\npolicy: {defaultDecision: maybe}", field: "spec.policy.defaultDecision", msg: "must be allow or deny"},
		{name: "tool without sideEffect", spec: "image: i\ntools: [{name: t}]", field: "spec.tools[0].sideEffect", msg: "Required value"},
		{name: "tool with unknown sideEffect", spec: "image: i\ntools: [{name: t, sideEffect: delete}]", field: "spec.tools[0].sideEffect", msg: "Unsupported value"},
		{name: "auth mode of spaces", spec: "image: i\nauth: {mode: ' '}", field: "spec.auth.mode", msg: "must be none, header, oauth or mtls"},
		{name: "tool with unknown requiredTrust", spec: "image: i\ntools: [{name: t, sideEffect: read, requiredTrust: ultra}]", field: "spec.tools[0].requiredTrust", msg: "Unsupported value"},
		{name: "tool with unknown riskLevel", spec: "image: i\ntools: [{name: t, sideEffect: read, riskLevel: extreme}]", field: "spec.tools[0].riskLevel", msg: "Unsupported value"},
		{name: "tool without name", spec: "image: i\ntools: [{sideEffect: read}]", field: "spec.tools[0].name", msg: "Required value"},
		{name: "tool with an empty name", spec: "image: i\ntools: [{name: '', sideEffect: read}]", field: "spec.tools[0].name", msg: "at least 1 chars long"},
		{name: "duplicate tool names", spec: "image: i\ntools: [{name: t, sideEffect: read}, {name: t, sideEffect: write}]", field: "spec.tools[1]", msg: "Duplicate value"},
		{name: "unknown rollout strategy", spec: "image: i\nrollout: {strategy: BlueGreen}", field: "spec.rollout.strategy", msg: "must be RollingUpdate, Recreate or Canary"},
		{name: "maxSurge not a number", spec: "image: i\nrollout: {maxSurge: lots}", field: "spec.rollout.maxSurge", msg: "must be a non-negative integer or a percentage"},
		{name: "maxSurge a bare percent sign", spec: "image: i\nrollout: {maxSurge: '%'}", field: "spec.rollout.maxSurge", msg: "must be a non-negative integer or a percentage"},
		{name: "maxSurge with two percent signs", spec: "image: i\nrollout: {maxSurge: '5%%'}", field: "spec.rollout.maxSurge", msg: "must be a non-negative integer or a percentage"},
		{name: "maxUnavailable negative string", spec: "image: i\nrollout: {maxUnavailable: '-1'}", field: "spec.rollout.maxUnavailable", msg: "must be a non-negative integer or a percentage"},
		{name: "maxUnavailable negative percentage", spec: "image: i\nrollout: {maxUnavailable: '-10%'}", field: "spec.rollout.maxUnavailable", msg: "must be a non-negative integer or a percentage"},
		// MCP Runtime's CRD types these as strings, so it refuses every integer.
		{name: "maxUnavailable negative integer", spec: "image: i\nrollout: {maxUnavailable: -1}", field: "spec.rollout.maxUnavailable", msg: "must be a non-negative integer or a percentage"},
		{name: "publicPathPrefix only slashes", spec: "image: i\npublicPathPrefix: //", field: "spec.publicPathPrefix", msg: "publicPathPrefix must contain a character other than '/'"},
		{name: "secretEnvVar without secretKeyRef", spec: "image: i\nsecretEnvVars: [{name: TOKEN}]", field: "spec.secretEnvVars[0].secretKeyRef", msg: "Required value"},
		{name: "secretEnvVar with an empty name", spec: "image: i\nsecretEnvVars: [{name: '', secretKeyRef: {name: s, key: k}}]", field: "spec.secretEnvVars[0].name", msg: "at least 1 chars long"},
		{name: "secretKeyRef without key", spec: "image: i\nsecretEnvVars: [{name: TOKEN, secretKeyRef: {name: s}}]", field: "spec.secretEnvVars[0].secretKeyRef.key", msg: "Required value"},
		{name: "secretKeyRef with an empty name", spec: "image: i\nsecretEnvVars: [{name: TOKEN, secretKeyRef: {name: '', key: k}}]", field: "spec.secretEnvVars[0].secretKeyRef.name", msg: "secretKeyRef.name is required"},
		{name: "secretKeyRef with an empty key", spec: "image: i\nsecretEnvVars: [{name: TOKEN, secretKeyRef: {name: s, key: ''}}]", field: "spec.secretEnvVars[0].secretKeyRef.key", msg: "secretKeyRef.key is required"},
		{name: "analytics apiKeySecretRef without key", spec: "image: i\n" + gateway + "\nanalytics: {apiKeySecretRef: {name: s}}", field: "spec.analytics.apiKeySecretRef.key", msg: "Required value"},
		{name: "analytics apiKeySecretRef with an empty name", spec: "image: i\n" + gateway + "\nanalytics: {apiKeySecretRef: {name: '', key: k}}", field: "spec.analytics.apiKeySecretRef.name", msg: "analytics.apiKeySecretRef.name is required"},
		{name: "analytics apiKeySecretRef with a blank key", spec: "image: i\n" + gateway + "\nanalytics: {apiKeySecretRef: {name: s, key: ' '}}", field: "spec.analytics.apiKeySecretRef.key", msg: "analytics.apiKeySecretRef.key is required"},
		{name: "envVar without name", spec: "image: i\nenvVars: [{value: x}]", field: "spec.envVars[0].name", msg: "Required value"},
		// loom's own rule: the name names the Service, and it cannot change.
		{name: "name not a DNS-1035 label", obj: "1st-server", spec: "image: i", field: "<nil>", msg: "metadata.name must be a DNS-1035 label"},
		{name: "name with dots", obj: "my.server", spec: "image: i", field: "<nil>", msg: "metadata.name must be a DNS-1035 label"},
		{name: "name longer than 63", obj: strings.Repeat("a", 64), spec: "image: i", field: "<nil>", msg: "metadata.name must be a DNS-1035 label"},
		{name: "unknown field", spec: "image: i\nanalytics: {enabled: true}", field: "spec.analytics.enabled", msg: "unknown field"},
		{name: "enforceOn is one string, not a list", spec: "image: i\npolicy: {enforceOn: [call_tool]}", field: "spec.policy.enforceOn", msg: "must be of type string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.obj
			if name == "" {
				name = "demo"
			}
			errs := a.create(server(t, name, tc.spec))
			require.NotEmpty(t, errs, "expected a rejection")
			var got []string
			for _, e := range errs {
				got = append(got, e.Field+": "+e.Error())
				if e.Field == tc.field && strings.Contains(e.Error(), tc.msg) {
					return
				}
			}
			t.Fatalf("no error at %s containing %q; got:\n%s", tc.field, tc.msg, strings.Join(got, "\n"))
		})
	}
}

func TestStatusPhaseIsAnEnum(t *testing.T) {
	a := loadCRD(t)
	obj := server(t, "demo", "image: i")
	obj["status"] = map[string]any{"phase": "Running"}
	errs := a.create(obj)
	require.Len(t, errs, 1)
	assert.Equal(t, "status.phase", errs[0].Field)
	assert.Contains(t, errs[0].Error(), "Unsupported value")
}

func TestValidSpecsAreAccepted(t *testing.T) {
	a := loadCRD(t)
	cases := []struct{ name, spec string }{
		{"image only", "image: registry.example.com/team/server"},
		{"image with digest", "image: registry.example.com/s@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"zero replicas", "image: i\nreplicas: 0"},
		{"gateway disabled may share the port", "image: i\ngateway: {enabled: false, port: 8088}"},
		{"gateway on its own port", "image: i\nport: 9000\ngateway: {enabled: true, port: 9001}"},
		{"oauth with issuer", "image: i\nauth: {mode: oauth, issuerURL: 'https://id.example.com', audience: 'https://mcp.example.com/s/mcp'}"},
		{"mtls with trust domain", "image: i\nauth: {mode: mtls, trustDomain: example.org}"},
		{"canary", "image: i\nreplicas: 3\nrollout: {strategy: Canary, canaryReplicas: 1}"},
		{"canaryReplicas ignored without Canary", "image: i\nrollout: {strategy: RollingUpdate, canaryReplicas: 5}"},
		{"rollout numbers as strings", "image: i\nrollout: {maxSurge: '1', maxUnavailable: '0'}"},
		{"rollout numbers as integers", "image: i\nrollout: {maxSurge: 2, maxUnavailable: 0}"},
		{"rollout percentages", "image: i\nrollout: {strategy: Recreate, maxSurge: 50%, maxUnavailable: 100%}"},
		{"quantities", "image: i\nresources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: '1.5', memory: 1G}}"},
		{"teamID of 128 chars", "image: i\nteamID: " + strings.Repeat("t", 128)},
		{"publicPathPrefix", "image: i\npublicPathPrefix: /team/tools"},
		{"every inventory", "image: i\nprompts: [{name: p, labels: {a: b}}]\nmcpResources: [{name: r}]\ntasks: [{name: t, description: d}]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Empty(t, a.create(server(t, "demo", tc.spec)))
		})
	}
}

func TestExamplesAreValid(t *testing.T) {
	byKind := map[string]struct {
		crd   string
		typed func() any
	}{
		"MCPServer":       {crdName, func() any { return &v1alpha1.MCPServer{} }},
		"MCPAccessGrant":  {"mcpaccessgrants.mcpruntime.org", func() any { return &v1alpha1.MCPAccessGrant{} }},
		"MCPAgentSession": {"mcpagentsessions.mcpruntime.org", func() any { return &v1alpha1.MCPAgentSession{} }},
	}
	files, err := filepath.Glob("../../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			obj := decode(t, data)
			assert.Equal(t, "mcpruntime.org/v1alpha1", obj["apiVersion"])
			kind, _ := obj["kind"].(string)
			k, ok := byKind[kind]
			require.True(t, ok, "an example of kind %q", kind)
			assert.Empty(t, loadCRDNamed(t, k.crd).create(obj))

			// The Go types know every field the examples use.
			require.NoError(t, yaml.UnmarshalStrict(data, k.typed()))
		})
	}
}

func TestDefaults(t *testing.T) {
	a := loadCRD(t)

	t.Run("unconditional defaults land", func(t *testing.T) {
		obj := server(t, "demo", `
image: i
tools: [{name: t, sideEffect: read}]
auth: {}
policy: {}
session: {}
gateway: {enabled: true}
analytics: {}
rollout: {}
`)
		require.Empty(t, a.create(obj))
		spec := obj["spec"].(map[string]any)
		want := map[string]any{
			"image":        "i",
			"replicas":     int64(1),
			"port":         int64(8088),
			"servicePort":  int64(80),
			"ingressClass": "traefik",
			"tools":        []any{map[string]any{"name": "t", "sideEffect": "read", "requiredTrust": "low"}},
			"auth": map[string]any{
				"mode":            "header",
				"humanIDHeader":   "X-MCP-Human-ID",
				"agentIDHeader":   "X-MCP-Agent-ID",
				"teamIDHeader":    "X-MCP-Team-ID",
				"sessionIDHeader": "X-MCP-Agent-Session",
				"tokenHeader":     "Authorization",
			},
			"policy": map[string]any{
				"mode":            "allow-list",
				"defaultDecision": "deny",
				"enforceOn":       "call_tool",
				"policyVersion":   "v1",
			},
			"session": map[string]any{
				"store":               "kubernetes",
				"maxLifetime":         "24h",
				"idleTimeout":         "1h",
				"upstreamTokenHeader": "Authorization",
			},
			"gateway":   map[string]any{"enabled": true, "port": int64(8091)},
			"analytics": map[string]any{"eventType": "mcp.request"},
			"rollout":   map[string]any{"strategy": "RollingUpdate", "maxUnavailable": "25%", "maxSurge": "25%"},
		}
		assert.Equal(t, want, spec)
	})

	t.Run("conditional values are left to the template", func(t *testing.T) {
		obj := server(t, "demo", "image: i")
		require.Empty(t, a.create(obj))
		spec := obj["spec"].(map[string]any)
		// imageTag, ingressPath, ingressHost, resources, gateway.upstreamURL and
		// analytics.source depend on other fields or on operator configuration, and
		// optional sections are not created: absent sections mean "not configured".
		assert.Equal(t, map[string]any{
			"image":        "i",
			"replicas":     int64(1),
			"port":         int64(8088),
			"servicePort":  int64(80),
			"ingressClass": "traefik",
		}, spec)
	})

	t.Run("explicit values win", func(t *testing.T) {
		obj := server(t, "demo", "image: i\nreplicas: 0\nport: 9000\nrollout: {maxSurge: '1'}")
		require.Empty(t, a.create(obj))
		spec := obj["spec"].(map[string]any)
		assert.Equal(t, int64(0), spec["replicas"])
		assert.Equal(t, int64(9000), spec["port"])
		// "1" stays a string in the object; the template turns it into the integer 1.
		assert.Equal(t, "1", spec["rollout"].(map[string]any)["maxSurge"])
	})
}

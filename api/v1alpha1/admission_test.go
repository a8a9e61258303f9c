package v1alpha1_test

// The admission suite: manifests that MCP Runtime's admission accepts (its CRD, then its
// defaulting and validating webhooks, as /docs MCPSERVER.md "What MCP Runtime's admission
// accepts" lists them), at the edges of each of its rules. loom's CRD must admit every one
// (offline here, and on a real API server in admission_apiserver_test.go), and the default
// graph then reports a phase: Pending for a spec that can run (nothing is observed yet),
// Error for one that cannot, with status.message naming the field.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/render"
	"github.com/loom-mcp/loom/templates"
)

// admitted is one manifest MCP Runtime admits and what loom then reports.
type admitted struct {
	name  string
	obj   string // metadata.name; "demo" when empty
	spec  string
	phase string // Pending (the spec can run) or Error
	field string // for Error: the field status.message names first
	// check, when set, looks further at the rendered objects.
	check func(t *testing.T, res *render.Result)
}

// Values at the edges of lengths loom's CRD used to limit.
var (
	long1025   = "ghcr.io/" + strings.Repeat("a", 1017)
	long1024   = long1025[:1024]
	tag129     = strings.Repeat("t", 129)
	host255    = strings.Join([]string{strings.Repeat("a", 63), strings.Repeat("b", 63), strings.Repeat("c", 63), strings.Repeat("d", 63)}, ".")
	longURL    = "https://example.com/" + strings.Repeat("u", 3000)
	longString = strings.Repeat("x", 300)
)

const gatewayOn = "gateway: {enabled: true, image: ghcr.io/acme/mcp-gateway:1.0}"

func admittedSuite() []admitted {
	return []admitted{
		// Every optional block absent, present and empty.
		{name: "image only", spec: "image: ghcr.io/acme/weather:1.0", phase: "Pending"},
		{name: "auth present and empty", spec: "image: i\nauth: {}", phase: "Pending"},
		{name: "policy present and empty", spec: "image: i\npolicy: {}", phase: "Pending"},
		{name: "session present and empty", spec: "image: i\nsession: {}", phase: "Pending"},
		{name: "gateway present and empty", spec: "image: i\ngateway: {}", phase: "Pending"},
		{name: "rollout present and empty", spec: "image: i\nrollout: {}", phase: "Pending"},
		{name: "resources present and empty", spec: "image: i\nresources: {}", phase: "Pending"},
		{name: "resources with empty limits and requests", spec: "image: i\nresources: {limits: {}, requests: {}}", phase: "Pending"},
		{name: "empty lists and maps", spec: "image: i\nimagePullSecrets: []\nenvVars: []\nsecretEnvVars: []\ntools: []\nprompts: []\nmcpResources: []\ntasks: []\ningressAnnotations: {}", phase: "Pending"},
		{name: "analytics present and empty with the gateway", spec: "image: i\n" + gatewayOn + "\nanalytics: {}", phase: "Pending"},
		{name: "gateway with empty resources", spec: "image: i\ngateway: {enabled: true, image: g, resources: {}}", phase: "Pending"},
		// MCP Runtime admits it, then its operator refuses it too: no gateway image anywhere.
		{name: "gateway with no image anywhere", spec: "image: i\ngateway: {enabled: true}", phase: "Error", field: "spec.gateway.image"},
		{name: "disabled analytics without the gateway", spec: "image: i\nanalytics: {disabled: true, ingestURL: 'https://ingest.example.com', source: s, eventType: e, apiKeySecretRef: {name: s, key: k}}", phase: "Pending"},
		{name: "disabled analytics with an empty apiKeySecretRef", spec: "image: i\nanalytics: {disabled: true, apiKeySecretRef: {name: '', key: ''}}", phase: "Pending"},
		// MCP Runtime's defaulting webhook fills these before its CRD checks the enums.
		{name: "empty enum values are the defaults", spec: "image: i\n" + gatewayOn + "\nauth: {mode: ''}\npolicy: {mode: ' ', defaultDecision: ''}\nrollout: {strategy: ''}\ntools: [{name: t, sideEffect: read, requiredTrust: ''}]", phase: "Pending", check: func(t *testing.T, res *render.Result) {
			hasField("Deployment", "demo", "RollingUpdate", "spec", "strategy", "type")(t, res)
			data, _, err := unstructured.NestedString(rendered(t, res, "ConfigMap", "demo-gateway-policy"), "data", "policy.json")
			require.NoError(t, err)
			var policy struct {
				Auth   struct{ Mode string }
				Policy struct {
					Mode            string
					DefaultDecision string `json:"default_decision"`
				}
				Tools []struct {
					RequiredTrust string `json:"required_trust"`
				}
			}
			require.NoError(t, json.Unmarshal([]byte(data), &policy))
			assert.Equal(t, "header", policy.Auth.Mode)
			assert.Equal(t, "allow-list", policy.Policy.Mode)
			assert.Equal(t, "deny", policy.Policy.DefaultDecision)
			require.Len(t, policy.Tools, 1)
			assert.Equal(t, "low", policy.Tools[0].RequiredTrust)
		}},
		{name: "empty ingressClass is traefik", spec: "image: i\ningressClass: ''", phase: "Pending", check: hasField("Ingress", "demo", "traefik", "spec", "ingressClassName")},

		// Strings loom used to limit.
		{name: "blank teamID", spec: "image: i\nteamID: '   '", phase: "Pending"},
		{name: "teamID of 129 spaces", spec: "image: i\nteamID: '" + strings.Repeat(" ", 129) + "'", phase: "Pending"},
		{name: "teamID with a vertical tab inside", spec: "image: i\nteamID: \"team\\va\"", phase: "Pending"},
		{name: "teamID of 128 bytes in 64 characters", spec: "image: i\nteamID: " + strings.Repeat("é", 64), phase: "Pending"},
		{name: "teamID of 128 characters", spec: "image: i\nteamID: " + strings.Repeat("t", 128), phase: "Pending"},
		{name: "image of 1024 characters", spec: "image: " + long1024, phase: "Pending"},
		{name: "image longer than 1024 characters", spec: "image: " + long1025, phase: "Error", field: "spec.image"},
		{name: "image with a space", spec: "image: 'ghcr.io/acme/weather server'", phase: "Error", field: "spec.image"},
		{name: "imageTag of 129 characters", spec: "image: i\nimageTag: " + tag129, phase: "Error", field: "spec.imageTag"},
		{name: "imageTag of 129 characters, unused", spec: "image: i:1.0\nimageTag: " + tag129, phase: "Pending"},
		{name: "blank imageTag is latest", spec: "image: ghcr.io/acme/weather\nimageTag: '  '", phase: "Pending", check: hasField("Deployment", "demo", "ghcr.io/acme/weather:latest", "spec", "template", "spec", "containers", "0", "image")},
		{name: "gateway image with spaces around it", spec: "image: i\ngateway: {enabled: true, image: ' ghcr.io/acme/mcp-gateway:1.0 '}", phase: "Pending", check: hasField("Deployment", "demo", "ghcr.io/acme/mcp-gateway:1.0", "spec", "template", "spec", "containers", "1", "image")},
		{name: "gateway image with a space inside", spec: "image: i\ngateway: {enabled: true, image: 'ghcr.io/acme/mcp gateway'}", phase: "Error", field: "spec.gateway.image"},
		{name: "registryOverride with a space", spec: "image: i\nregistryOverride: 'registry example.com'", phase: "Error", field: "spec.registryOverride"},
		{name: "ingressPath of 1101 characters", spec: "image: i\ningressPath: /" + strings.Repeat("p", 1100), phase: "Pending"},
		{name: "publicPathPrefix of 300 characters", spec: "image: i\npublicPathPrefix: " + longString, phase: "Pending"},
		{name: "ingressHost of 255 characters", spec: "image: i\ningressHost: " + host255, phase: "Error", field: "spec.ingressHost"},
		{name: "ingressClass of 253 characters", spec: "image: i\ningressClass: " + strings.Repeat("c", 253), phase: "Pending"},
		{name: "ingressClass of 254 characters", spec: "image: i\ningressClass: " + strings.Repeat("c", 254), phase: "Error", field: "spec.ingressClass"},
		{name: "ingressClass in capitals", spec: "image: i\ningressClass: Traefik", phase: "Error", field: "spec.ingressClass"},
		{name: "long policy strings", spec: "image: i\npolicy: {enforceOn: " + longString + ", policyVersion: " + longString + "}", phase: "Pending"},
		{name: "long auth strings", spec: "image: i\nauth: {mode: header, issuerURL: '" + longURL + "', audience: '" + longURL + "', trustDomain: " + longString + "}", phase: "Pending"},
		{name: "long gateway strings", spec: "image: i\ngateway: {enabled: true, image: g, upstreamURL: '" + longURL + "', stripPrefix: /" + longString + "}", phase: "Pending"},
		{name: "long analytics ingestURL", spec: "image: i\n" + gatewayOn + "\nanalytics: {ingestURL: '" + longURL + "'}", phase: "Pending"},
		{name: "envVar with an empty name", spec: "image: i\nenvVars: [{name: '', value: x}]", phase: "Error", field: "spec.envVars"},
		{name: "inventory items with empty names", spec: "image: i\nprompts: [{name: ''}]\nmcpResources: [{name: ''}]\ntasks: [{name: ''}]", phase: "Pending"},
		{name: "tool name with a space inside", spec: "image: i\ntools: [{name: 'look up', sideEffect: read}]", phase: "Pending"},

		// Numbers: MCP Runtime's CRD has no minimum or maximum, and defaults 0 ports.
		{name: "negative replicas run no pods", spec: "image: i\nreplicas: -1", phase: "Pending", check: hasField("Deployment", "demo", int64(0), "spec", "replicas")},
		{name: "replicas at the int32 maximum", spec: "image: i\nreplicas: 2147483647", phase: "Pending"},
		{name: "ports 0 are the defaults", spec: "image: i\nport: 0\nservicePort: 0", phase: "Pending", check: func(t *testing.T, res *render.Result) {
			hasField("Deployment", "demo", []any{map[string]any{"name": "http", "containerPort": int64(8088), "protocol": "TCP"}}, "spec", "template", "spec", "containers", "0", "ports")(t, res)
			hasField("Service", "demo", int64(80), "spec", "ports", "0", "port")(t, res)
		}},
		{name: "port above 65535", spec: "image: i\nport: 70000", phase: "Error", field: "spec.port"},
		{name: "negative port", spec: "image: i\nport: -1", phase: "Error", field: "spec.port"},
		{name: "servicePort above 65535", spec: "image: i\nservicePort: 65536", phase: "Error", field: "spec.servicePort"},
		{name: "ports 0 with the gateway", spec: "image: i\nport: 0\ngateway: {enabled: true, image: g, port: 0}", phase: "Pending", check: hasField("Service", "demo", int64(8091), "spec", "ports", "0", "targetPort")},
		{name: "disabled gateway on the server's port", spec: "image: i\ngateway: {enabled: false, port: 8088}", phase: "Pending"},
		{name: "gateway port above 65535", spec: "image: i\ngateway: {enabled: true, image: g, port: 70000}", phase: "Error", field: "spec.gateway.port"},
		{name: "negative canaryReplicas without Canary", spec: "image: i\nrollout: {canaryReplicas: -1}", phase: "Pending"},
		{name: "canary at its bounds", spec: "image: i\nreplicas: 2\nrollout: {strategy: Canary, canaryReplicas: 1}", phase: "Pending"},
		{name: "blank rollout values are 25%", spec: "image: i\nrollout: {maxSurge: '', maxUnavailable: '  '}", phase: "Pending", check: hasField("Deployment", "demo", map[string]any{"maxSurge": "25%", "maxUnavailable": "25%"}, "spec", "strategy", "rollingUpdate")},
		{name: "signed rollout values", spec: "image: i\nrollout: {maxSurge: '+1', maxUnavailable: '-0'}", phase: "Pending", check: hasField("Deployment", "demo", map[string]any{"maxSurge": int64(1), "maxUnavailable": int64(0)}, "spec", "strategy", "rollingUpdate")},
		{name: "rollout values with spaces", spec: "image: i\nrollout: {maxSurge: ' 2 ', maxUnavailable: ' 10% '}", phase: "Pending", check: hasField("Deployment", "demo", map[string]any{"maxSurge": int64(2), "maxUnavailable": "10%"}, "spec", "strategy", "rollingUpdate")},
		{name: "signed percentage", spec: "image: i\nrollout: {maxSurge: '+5%'}", phase: "Error", field: "spec.rollout.maxSurge"},
		{name: "Recreate uses no rollout values", spec: "image: i\nrollout: {strategy: Recreate, maxUnavailable: '+5%'}", phase: "Pending"},
		{name: "empty quantities are the defaults", spec: "image: i\nresources: {limits: {cpu: '', memory: ''}, requests: {cpu: '', memory: ''}}", phase: "Pending"},
		{name: "cpu not a quantity", spec: "image: i\nresources: {limits: {cpu: 500 m}}", phase: "Error", field: "spec.resources.limits.cpu"},
		{name: "negative memory", spec: "image: i\nresources: {requests: {memory: -64Mi}}", phase: "Error", field: "spec.resources.requests.memory"},
		{name: "gateway memory not a quantity", spec: "image: i\ngateway: {enabled: true, image: g, resources: {requests: {memory: 64MB}}}", phase: "Error", field: "spec.gateway.resources.requests.memory"},
		{name: "disabled gateway with bad resources", spec: "image: i\ngateway: {resources: {limits: {cpu: lots}}}", phase: "Pending"},

		// The oauth, mtls, gateway, analytics and canary combinations.
		{name: "oauth without issuerURL and without the gateway", spec: "image: i\nauth: {mode: oauth}", phase: "Pending", check: oauthPaths("/demo/mcp")},
		{name: "oauth with a blank issuerURL and without the gateway", spec: "image: i\npublicPathPrefix: team/demo\nauth: {mode: oauth, issuerURL: ' '}", phase: "Pending", check: oauthPaths("/team/demo/mcp")},
		{name: "oauth with the gateway", spec: "image: i\n" + gatewayOn + "\nauth: {mode: oauth, issuerURL: 'https://login.example.com'}", phase: "Pending", check: oauthPaths("/demo/mcp")},
		{name: "mtls with the gateway", spec: "image: i\n" + gatewayOn + "\nauth: {mode: mtls, trustDomain: example.org}", phase: "Pending"},
		{name: "analytics with the gateway and an API key", spec: "image: i\n" + gatewayOn + "\nanalytics: {ingestURL: 'https://ingest.example.com', apiKeySecretRef: {name: s, key: k}}", phase: "Pending"},
		{name: "canary, gateway, oauth and analytics", spec: "image: i\nreplicas: 3\n" + gatewayOn + "\nauth: {mode: oauth, issuerURL: 'https://login.example.com'}\nanalytics: {ingestURL: 'https://ingest.example.com'}\nrollout: {strategy: Canary, canaryReplicas: 1}", phase: "Pending"},
		{name: "auth none with the gateway", spec: "image: i\n" + gatewayOn + "\nauth: {mode: none}", phase: "Pending"},
		{name: "header mode with an empty issuerURL", spec: "image: i\n" + gatewayOn + "\nauth: {mode: header, issuerURL: ''}", phase: "Pending"},

		// Names, routing and annotations.
		{name: "name of 63 characters", obj: strings.Repeat("a", 63), spec: "image: i", phase: "Pending"},
		{name: "name of one letter", obj: "a", spec: "image: i", phase: "Pending"},
		{name: "blank routing fields are unset", spec: "image: i\ningressHost: '  '\npublicPathPrefix: '  '\ningressPath: ' '", phase: "Pending", check: hasField("Ingress", "demo", "/demo/mcp", "spec", "rules", "0", "http", "paths", "0", "path")},
		{name: "class annotation equal to the class", spec: "image: i\ningressClass: nginx\ningressAnnotations: {kubernetes.io/ingress.class: nginx}", phase: "Pending"},
		// MCP Runtime admits it; the API server then refuses the Ingress.
		{name: "class annotation other than the class", spec: "image: i\ningressAnnotations: {kubernetes.io/ingress.class: nginx}", phase: "Error", field: "spec.ingressAnnotations"},
	}
}

// mcpserverGraph loads the default graph typed by the CRD in config/crd, as the operator does.
func mcpserverGraph(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := templates.LoadMCPServer()
	require.NoError(t, err)
	return g
}

// report renders obj (as stored: defaults applied) through the default graph with the
// operator's default configuration, plus the ClusterIssuer every mTLS install names
// (MCP_MTLS_CLUSTER_ISSUER), and nothing observed, and returns the result and status.
func report(t *testing.T, g *graph.Graph, obj map[string]any) (*render.Result, map[string]any) {
	t.Helper()
	obj = deepCopy(obj)
	meta := obj["metadata"].(map[string]any)
	meta["namespace"], meta["generation"] = "mcp", int64(1)
	in := render.Input{Instance: obj, Config: map[string]any{"mtlsClusterIssuer": "mcp-ca"}, Validate: true}
	res, err := render.Render(context.Background(), g, in)
	require.NoError(t, err)
	rep, err := render.Status(context.Background(), g, in, res, render.StatusOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.NotNil(t, rep.Status)
	return res, rep.Status
}

// assertReport checks the phase loom reports for tc, and for Error that the message names
// tc.field; for any other phase, that every object rendered and passed its schema.
func assertReport(t *testing.T, tc admitted, res *render.Result, status map[string]any) {
	t.Helper()
	require.Equal(t, tc.phase, status["phase"], "status.message: %v", status["message"])
	if tc.phase == "Error" {
		assert.True(t, strings.HasPrefix(status["message"].(string), tc.field+": "),
			"status.message should name %s first: %v", tc.field, status["message"])
		return
	}
	assert.Empty(t, res.Errors)
	for _, n := range res.Nodes {
		assert.NotEqual(t, render.Error, n.State, "%s: %s", n.ID, n.Reason)
	}
	if tc.check != nil {
		tc.check(t, res)
	}
}

func TestMCPRuntimeManifestsAreAdmitted(t *testing.T) {
	a := loadCRD(t)
	g := mcpserverGraph(t)
	suite := admittedSuite()
	require.GreaterOrEqual(t, len(suite), 40)
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			obj := server(t, objName(tc), tc.spec)
			require.Empty(t, a.create(obj), "loom's CRD must admit what MCP Runtime admits")
			res, status := report(t, g, obj)
			assertReport(t, tc, res, status)
		})
	}
}

func objName(tc admitted) string {
	if tc.obj == "" {
		return "demo"
	}
	return tc.obj
}

// rendered returns the rendered object of kind and name.
func rendered(t *testing.T, res *render.Result, kind, name string) map[string]any {
	t.Helper()
	for _, n := range res.Nodes {
		if n.State == render.Rendered && n.Object["kind"] == kind {
			if meta, _ := n.Object["metadata"].(map[string]any); meta["name"] == name {
				return n.Object
			}
		}
	}
	require.Failf(t, "not rendered", "%s %s", kind, name)
	return nil
}

// hasField checks one field of a rendered object; path items that are digits index lists.
func hasField(kind, name string, want any, path ...string) func(*testing.T, *render.Result) {
	return func(t *testing.T, res *render.Result) {
		t.Helper()
		var v any = rendered(t, res, kind, name)
		for _, p := range path {
			switch c := v.(type) {
			case map[string]any:
				v = c[p]
			case []any:
				i := 0
				for _, r := range p {
					i = i*10 + int(r-'0')
				}
				require.Less(t, i, len(c), "%s %s: %s", kind, name, strings.Join(path, "."))
				v = c[i]
			default:
				require.Failf(t, "no such field", "%s %s: %s", kind, name, strings.Join(path, "."))
			}
		}
		assert.Equal(t, want, v, "%s %s: %s", kind, name, strings.Join(path, "."))
	}
}

// oauthPaths checks that the Ingress routes path and the OAuth protected-resource metadata
// path of the route, in one rule, to the same backend.
func oauthPaths(path string) func(*testing.T, *render.Result) {
	return func(t *testing.T, res *render.Result) {
		t.Helper()
		ing := rendered(t, res, "Ingress", "demo")
		paths, _, err := unstructured.NestedSlice(ing, "spec", "rules")
		require.NoError(t, err)
		require.Len(t, paths, 1)
		got, _, err := unstructured.NestedSlice(paths[0].(map[string]any), "http", "paths")
		require.NoError(t, err)
		var routes []string
		for _, p := range got {
			p := p.(map[string]any)
			backend, _, _ := unstructured.NestedMap(p, "backend", "service")
			routes = append(routes, p["path"].(string)+" "+p["pathType"].(string)+" "+backend["name"].(string))
		}
		assert.Equal(t, []string{path + " Prefix demo", "/.well-known/oauth-protected-resource" + path + " Prefix demo"}, routes)
	}
}

func deepCopy(obj map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: obj}).DeepCopy().Object
}

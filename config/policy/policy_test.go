package policy_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/config/crd"
	"github.com/loom-mcp/loom/internal/controlplane"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { os.Exit(controlplane.RunTests(m, &cp)) }

var mcpGVR = schema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpservers"}

// TestPolicy applies policy.yaml, binding.yaml and params.yaml (plus hosts for a second
// namespace) to a real API server, and creates MCPServers that break each rule, refused
// with the policy's message, and ones that keep them, admitted.
func TestPolicy(t *testing.T) {
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	d, err := dynamic.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	require.NoError(t, cp.InstallCRD(ctx, crd.MCPServer))
	for _, ns := range []string{"loom-system", "team-b"} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	policy := &admissionv1.ValidatingAdmissionPolicy{}
	readYAML(t, "policy.yaml", policy)
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	readYAML(t, "binding.yaml", binding)
	params := &corev1.ConfigMap{}
	readYAML(t, "params.yaml", params)
	params.Data["hosts.team-b"] = "*.team-b.example.com, mcp.team-b.example.org"
	_, err = cs.CoreV1().ConfigMaps(params.Namespace).Create(ctx, params, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{})
	require.NoError(t, err)

	// The API server type-checks the policy against the CRD's schema: no warnings.
	require.Eventually(t, func() bool {
		got, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, policy.Name, metav1.GetOptions{})
		return err == nil && got.Status.TypeChecking != nil && got.Status.ObservedGeneration == got.Generation
	}, 30*time.Second, 200*time.Millisecond, "the policy was never type-checked")
	got, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, policy.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.Status.TypeChecking.ExpressionWarnings)

	// The policy takes effect a moment after it is created: wait until it refuses a server.
	require.Eventually(t, func() bool {
		_, err := create(ctx, d, "default", "probe", map[string]any{"imagePullSecrets": []any{"root-credentials"}}, true)
		return err != nil
	}, 30*time.Second, 200*time.Millisecond, "the policy never took effect")

	cases := []struct {
		name, namespace string
		spec            map[string]any
		refused         string // a part of the message; "" when admitted
	}{
		{name: "conforming", namespace: "default", spec: map[string]any{
			"ingressHost":        "mcp.example.com",
			"imagePullSecrets":   []any{"mcp-runtime-registry-pull", "mcp-team-pull"},
			"secretEnvVars":      []any{map[string]any{"name": "DB_PASSWORD", "secretKeyRef": map[string]any{"name": "mcp-weather-db", "key": "password"}}},
			"ingressAnnotations": map[string]any{"traefik.ingress.kubernetes.io/router.middlewares": "auth@file"},
			"gateway":            map[string]any{"enabled": true, "image": "ghcr.io/acme/mcp-gateway:1"},
			"analytics":          map[string]any{"apiKeySecretRef": map[string]any{"name": "mcp-analytics", "key": "key"}},
		}},
		{name: "no-references", namespace: "default", spec: map[string]any{}},
		{name: "secret-env", namespace: "default", spec: map[string]any{
			"secretEnvVars": []any{map[string]any{"name": "TOKEN", "secretKeyRef": map[string]any{"name": "cluster-admin-token", "key": "token"}}},
		}, refused: "spec references Secret(s) cluster-admin-token that the platform does not allow in namespace default"},
		{name: "analytics-key", namespace: "default", spec: map[string]any{
			"gateway":   map[string]any{"enabled": true, "image": "ghcr.io/acme/mcp-gateway:1"},
			"analytics": map[string]any{"apiKeySecretRef": map[string]any{"name": "billing", "key": "key"}},
		}, refused: "Secret(s) billing"},
		{name: "pull-secret", namespace: "default", spec: map[string]any{
			"imagePullSecrets": []any{"mcp-ok", "other-team-pull"},
		}, refused: "Secret(s) other-team-pull"},
		{name: "annotation", namespace: "default", spec: map[string]any{
			"ingressAnnotations": map[string]any{"nginx.ingress.kubernetes.io/configuration-snippet": "return 200;"},
		}, refused: "spec.ingressAnnotations: key(s) nginx.ingress.kubernetes.io/configuration-snippet are not allowed"},
		{name: "host", namespace: "default", spec: map[string]any{"ingressHost": "payments.example.com"},
			refused: "spec.ingressHost: payments.example.com is not allowed in namespace default"},
		{name: "wildcard-host", namespace: "team-b", spec: map[string]any{"ingressHost": "tools.team-b.example.com"}},
		{name: "exact-host", namespace: "team-b", spec: map[string]any{"ingressHost": "mcp.team-b.example.org"}},
		{name: "host-of-another-namespace", namespace: "team-b", spec: map[string]any{"ingressHost": "mcp.example.com"},
			refused: "spec.ingressHost: mcp.example.com is not allowed in namespace team-b"},
		{name: "wildcard-is-not-the-domain", namespace: "team-b", spec: map[string]any{"ingressHost": "team-b.example.com"},
			refused: "is not allowed in namespace team-b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := create(ctx, d, c.namespace, c.name, c.spec, false)
			if c.refused == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ValidatingAdmissionPolicy 'loom-mcpserver-references'")
			assert.Contains(t, err.Error(), c.refused)
		})
	}

	// An update is held to the same rules as a create.
	obj, err := d.Resource(mcpGVR).Namespace("default").Get(ctx, "no-references", metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedStringSlice(obj.Object, []string{"root-credentials"}, "spec", "imagePullSecrets"))
	_, err = d.Resource(mcpGVR).Namespace("default").Update(ctx, obj, metav1.UpdateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Secret(s) root-credentials")
}

// create submits an MCPServer with the image every server needs plus spec.
func create(ctx context.Context, d dynamic.Interface, ns, name string, spec map[string]any, dryRun bool) (*unstructured.Unstructured, error) {
	s := map[string]any{"image": "ghcr.io/acme/weather:1.0"}
	for k, v := range spec {
		s[k] = v
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     s,
	}}
	opts := metav1.CreateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return d.Resource(mcpGVR).Namespace(ns).Create(ctx, obj, opts)
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(data, into), file)
}

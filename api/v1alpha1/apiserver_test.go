package v1alpha1_test

// The admission suite against a real kube-apiserver (internal/controlplane): the CRD from
// config/crd installed, each manifest created as `kubectl apply` sends it (strict field
// validation), and what the API server stored compared with what the offline validators
// in crd_test.go produce, then rendered through the default graph.

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/internal/controlplane"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { os.Exit(controlplane.RunTests(m, &cp)) }

var mcpserversGVR = k8sschema.GroupVersionResource{Group: "mcpruntime.org", Version: "v1alpha1", Resource: "mcpservers"}

// installCRD creates the MCPServer CRD from config/crd and waits until it is served.
func installCRD(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile("../../config/crd/mcpruntime.org_mcpservers.yaml")
	require.NoError(t, err)
	crd := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, yaml.UnmarshalStrict(data, crd))
	cs, err := apiextensions.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ctx := context.Background()
	_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
}

// mcpservers returns a client for MCPServers in a new namespace.
func mcpservers(t *testing.T, namespace string) dynamic.ResourceInterface {
	t.Helper()
	installCRD(t)
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	_, err = cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := cp.AdminConfig()
	cfg.QPS, cfg.Burst = 500, 500 // client-go's default 5 per second would make this test the slowest part
	d, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return d.Resource(mcpserversGVR).Namespace(namespace)
}

// The whole suite is cheap enough to send: one create per manifest.
func TestMCPRuntimeManifestsAreAdmittedByTheAPIServer(t *testing.T) {
	a := loadCRD(t)
	g := mcpserverGraph(t)
	client := mcpservers(t, "admitted")
	for _, tc := range admittedSuite() {
		t.Run(tc.name, func(t *testing.T) {
			obj := server(t, objName(tc), tc.spec)
			offline := deepCopy(obj)
			require.Empty(t, a.create(offline))

			created, err := client.Create(context.Background(), &unstructured.Unstructured{Object: obj},
				metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
			require.NoError(t, err, "the API server must admit what MCP Runtime admits")
			// The cases share names; each goes before the next one comes.
			t.Cleanup(func() {
				require.NoError(t, client.Delete(context.Background(), created.GetName(), metav1.DeleteOptions{}))
			})
			assert.Equal(t, offline["spec"], created.Object["spec"], "the API server stored another spec than the offline validators give")

			res, status := report(t, g, created.Object)
			assertReport(t, tc, res, status)
		})
	}
}

// The rules loom keeps are enforced by the API server as crd_test.go finds offline.
func TestKeptRulesAreEnforcedByTheAPIServer(t *testing.T) {
	client := mcpservers(t, "refused")
	cases := []struct{ name, obj, spec, msg string }{
		{name: "oauth with the gateway without issuerURL", obj: "oauth", spec: "image: i\n" + gatewayOn + "\nauth: {mode: oauth}", msg: "spec.auth.issuerURL: Required value: auth.issuerURL is required when auth.mode is oauth and the gateway is enabled"},
		{name: "gateway port 0 against port 8091", obj: "ports", spec: "image: i\nport: 8091\ngateway: {enabled: true, port: 0}", msg: "spec.gateway.port: Invalid value"},
		{name: "analytics on with an empty API key name", obj: "analytics", spec: "image: i\n" + gatewayOn + "\nanalytics: {apiKeySecretRef: {name: '', key: k}}", msg: "spec.analytics.apiKeySecretRef.name: Required value"},
		{name: "rollout value neither integer nor percentage", obj: "rollout", spec: "image: i\nrollout: {maxSurge: '5%%'}", msg: "spec.rollout.maxSurge: Invalid value"},
		{name: "name that cannot name a Service", obj: "my.server", spec: "image: i", msg: "metadata.name must be a DNS-1035 label"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Create(context.Background(), &unstructured.Unstructured{Object: server(t, tc.obj, tc.spec)},
				metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
			require.Error(t, err)
			assert.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

package controllers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/templates"
)

var (
	certificateGVR     = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	ingressRouteGVR    = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}
	middlewareGVR      = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "middlewares"}
	serversTransGVR    = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "serverstransports"}
	tlsOptionGVR       = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "tlsoptions"}
	networkPolicyGVR   = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	thirdPartyResource = []schema.GroupVersionResource{certificateGVR, ingressRouteGVR, middlewareGVR, serversTransGVR, tlsOptionGVR}
)

// mtlsConfig is mcpConfig with the ClusterIssuer auth.mode mtls needs.
var mtlsConfig = func() map[string]any {
	c := maps.Clone(mcpConfig)
	c["mtlsClusterIssuer"] = "mcp-identity"
	return c
}()

func mtlsServer(ns, name string) *unstructured.Unstructured {
	return mcpServer(ns, name, map[string]any{
		"image":       "ghcr.io/example/weather:1.0",
		"ingressHost": "mtls.example.com",
		"auth":        map[string]any{"mode": "mtls", "trustDomain": "example.org"},
		"gateway":     map[string]any{"enabled": true},
	})
}

// mtlsObject is one object auth.mode mtls adds to a server named name.
type mtlsObject struct {
	gvr  schema.GroupVersionResource
	name string
}

func mtlsObjects(name string) []mtlsObject {
	return []mtlsObject{
		{certificateGVR, name + "-gateway-mtls"},
		{certificateGVR, name + "-traefik-client-mtls"},
		{secretGVR, name + "-mtls-ca"},
		{networkPolicyGVR, name + "-mtls-gateway"},
		{tlsOptionGVR, name + "-mtls"},
		{middlewareGVR, name + "-spiffe-identity"},
		{serversTransGVR, name + "-gateway"},
		{ingressRouteGVR, name},
	}
}

// installThirdPartyCRDs installs the cert-manager and Traefik CRDs the default graph's
// auth.mode mtls renders (templates/crds): the kinds, not their controllers.
func installThirdPartyCRDs(t *testing.T) {
	t.Helper()
	files, err := templates.ThirdPartyCRDs()
	require.NoError(t, err)
	for _, f := range files {
		installCRD(t, f.Data)
	}
}

// playCertManager does what cert-manager would for an mtls server: once loom made both
// Certificates, it writes the issued Secret (ca.crt, tls.crt, tls.key) and reports both
// Certificates Ready=True for their generation.
func playCertManager(t *testing.T, d dynamic.Interface, ns, name string) {
	t.Helper()
	ctx := context.Background()
	certs := []string{name + "-gateway-mtls", name + "-traefik-client-mtls"}
	for _, c := range certs {
		waitFor(t, d, certificateGVR, ns, c, 90*time.Second, func(*unstructured.Unstructured) bool { return true }, "loom never made the Certificate")
	}
	cert, key := selfSigned(t)
	issued := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": name + "-gateway-mtls", "namespace": ns},
		"type":       "kubernetes.io/tls",
		"stringData": map[string]any{"ca.crt": cert, "tls.crt": cert, "tls.key": key},
	}}
	_, err := d.Resource(secretGVR).Namespace(ns).Create(ctx, issued, metav1.CreateOptions{})
	require.NoError(t, err)
	for _, c := range certs {
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cert, err := d.Resource(certificateGVR).Namespace(ns).Get(ctx, c, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cond := map[string]any{
				"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired",
				"observedGeneration": cert.GetGeneration(), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
			}
			if err := unstructured.SetNestedSlice(cert.Object, []any{cond}, "status", "conditions"); err != nil {
				return err
			}
			_, err = d.Resource(certificateGVR).Namespace(ns).UpdateStatus(ctx, cert, metav1.UpdateOptions{})
			return err
		}))
	}
}

// selfSigned returns a self-signed certificate and its key, PEM-encoded, as an issuer's
// CA and certificate would be.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mcp-identity"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// requireMTLSObjects checks that every mtls object of the server exists, controlled by it,
// and that it has no Ingress.
func requireMTLSObjects(t *testing.T, d dynamic.Interface, server *unstructured.Unstructured) {
	t.Helper()
	ns, name := server.GetNamespace(), server.GetName()
	for _, o := range mtlsObjects(name) {
		obj := get(t, d, o.gvr, ns, o.name)
		ref := metav1.GetControllerOf(obj)
		require.NotNil(t, ref, "%s %s has no controller", o.gvr.Resource, o.name)
		assert.Equal(t, server.GetUID(), ref.UID, "%s %s", o.gvr.Resource, o.name)
	}
	gone(t, d, ingressGVR, ns, name, "an mtls server's Ingress")
}

// TestMTLS: with the cert-manager and Traefik CRDs installed (no controllers), an mtls
// server gets its Certificates, then, once the test plays cert-manager, the CA Secret and
// Traefik's routing, and goes Ready without an Ingress; switching the mode to header
// prunes every mTLS object and brings the Ingress back.
func TestMTLS(t *testing.T) {
	installMCPCRDs(t)
	installThirdPartyCRDs(t)
	startOperator(t, mcpGraph(t), mtlsConfig)
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "mtls"
	createNamespace(t, ns)
	_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, mtlsServer(ns, "weather"), metav1.CreateOptions{})
	require.NoError(t, err)

	// Until cert-manager issues, the server waits, saying for what.
	waitMCP(t, d, ns, "weather", func(o *unstructured.Unstructured) bool {
		msg, _, _ := unstructured.NestedString(o.Object, "status", "message")
		return strings.Contains(msg, "Certificate weather-gateway-mtls to be issued (Ready=True)") &&
			strings.Contains(msg, "Secret weather-mtls-ca to be copied")
	}, "never said it waits for the certificates")
	playCertManager(t, d, ns, "weather")
	server := waitMCP(t, d, ns, "weather", readyAt, "never Ready once the certificates were issued")
	requireMTLSObjects(t, d, server)
	issued := get(t, d, secretGVR, ns, "weather-gateway-mtls")
	issuedCA, _, _ := unstructured.NestedString(issued.Object, "data", "ca.crt")
	ca := get(t, d, secretGVR, ns, "weather-mtls-ca")
	assert.Equal(t, map[string]any{"ca.crt": issuedCA, "tls.ca": issuedCA}, ca.Object["data"], "the CA copied from the issued Secret")

	// Back to header: every mTLS object is pruned, the Ingress returns; the issued Secret
	// is cert-manager's, never loom's, and stays.
	_, err = d.Resource(mcpGVR).Namespace(ns).Patch(ctx, "weather", types.MergePatchType, []byte(`{"spec":{"auth":{"mode":"header"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	for _, o := range mtlsObjects("weather") {
		gone(t, d, o.gvr, ns, o.name, "an mtls object after the switch to header")
	}
	waitMCP(t, d, ns, "weather", readyAt, "not Ready after the switch to header")
	get(t, d, ingressGVR, ns, "weather")
	get(t, d, secretGVR, ns, "weather-gateway-mtls")
}

// deleteThirdPartyCRDs deletes the cert-manager and Traefik CRDs (an earlier test of the
// package may have installed them) and waits until the API server serves none of them.
func deleteThirdPartyCRDs(t *testing.T) {
	t.Helper()
	cs, err := apiextensions.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	files, err := templates.ThirdPartyCRDs()
	require.NoError(t, err)
	ctx := context.Background()
	for _, f := range files {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		require.NoError(t, yaml.Unmarshal(f.Data, crd))
		err := cs.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, crd.Name, metav1.DeleteOptions{})
		if !apierrors.IsNotFound(err) {
			require.NoError(t, err, crd.Name)
		}
	}
	for _, gvr := range thirdPartyResource {
		require.Eventually(t, func() bool { return !servesResource(t, gvr) }, 60*time.Second, 200*time.Millisecond, "%s still served", gvr)
	}
}

// TestMTLSWithoutCRDs: on a cluster without cert-manager and Traefik, the operator is
// Ready and serves plain servers; an mtls server is in phase Error naming the CRD to
// install, with nothing applied. Once the CRDs are installed (and cert-manager, played by
// the test, issues), the same operator brings the mtls server to Ready.
func TestMTLSWithoutCRDs(t *testing.T) {
	installMCPCRDs(t)
	deleteThirdPartyCRDs(t)
	probe := freeAddr(t)
	runOperatorAs(t, mcpGraph(t), mtlsConfig, operatorRun{probeAddr: probe})
	requireReadyz(t, probe, "without the cert-manager and Traefik CRDs")
	d := adminDynamic(t)
	ctx := context.Background()
	ns := "mtls-absent"
	createNamespace(t, ns)
	plain := readExample(t, "plain.yaml", ns)
	_, err := d.Resource(mcpGVR).Namespace(ns).Create(ctx, plain, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = d.Resource(mcpGVR).Namespace(ns).Create(ctx, mtlsServer(ns, "secure"), metav1.CreateOptions{})
	require.NoError(t, err)

	waitMCP(t, d, ns, plain.GetName(), readyAt, "a plain server is not Ready without the CRDs")
	const want = "resource gatewayCertificate: kind Certificate (cert-manager.io/v1) is not served by the API server; install its CRD (certificates.cert-manager.io)"
	waitMCP(t, d, ns, "secure", func(o *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		msg, _, _ := unstructured.NestedString(o.Object, "status", "message")
		return phase == "Error" && msg == want
	}, "never in Error naming the missing CRD")
	for _, gvr := range []schema.GroupVersionResource{deployGVR, svcGVR, networkPolicyGVR} {
		list, err := d.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "loom.dev/instance=secure"})
		require.NoError(t, err)
		assert.Empty(t, list.Items, "%s: nothing of the mtls server is applied while a kind it needs is not served", gvr.Resource)
	}
	requireReadyz(t, probe, "with an mtls server in Error")

	installed := time.Now()
	installThirdPartyCRDs(t)
	playCertManager(t, d, ns, "secure")
	server := waitMCP(t, d, ns, "secure", readyAt, "never Ready after the CRDs were installed")
	t.Logf("the mtls server was Ready %.1fs after the CRDs were installed", time.Since(installed).Seconds())
	requireMTLSObjects(t, d, server)
	waitMCP(t, d, ns, plain.GetName(), readyAt, "the plain server left Ready")
	requireReadyz(t, probe, "after the CRDs were installed")
}

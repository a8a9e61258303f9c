package controllers_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/engine/schema"
	"github.com/loom-mcp/loom/internal/controlplane"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(controlplane.RunTests(m, &cp, controlplane.WithAuditLog()))
}

var appGVR = k8sschema.GroupVersionResource{Group: "example.loom.dev", Version: "v1", Resource: "apps"}

// installAppCRD creates the App CRD (testdata/engine/crd.yaml) and waits until it is served.
func installAppCRD(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile("../testdata/engine/crd.yaml")
	require.NoError(t, err)
	installCRD(t, data)
}

// installCRD creates a CRD, unless it exists, and waits until it is served.
func installCRD(t *testing.T, data []byte) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, yaml.UnmarshalStrict(data, crd))
	cs, err := apiextensions.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	ctx := context.Background()
	_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
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

// loadGraph loads controllers/testdata/graph.yaml typed by the App CRD.
func loadGraph(t *testing.T) *graph.Graph {
	t.Helper()
	return loadGraphEdited(t)
}

// loadGraphEdited loads controllers/testdata/graph.yaml, typed by the App CRD, after replacing every old string of
// edits with the new one that follows it; every old string must be there.
func loadGraphEdited(t *testing.T, edits ...string) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile("testdata/graph.yaml")
	require.NoError(t, err)
	src := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		require.Contains(t, src, edits[i])
		src = strings.ReplaceAll(src, edits[i], edits[i+1])
	}
	s, err := schema.Builtin()
	require.NoError(t, err)
	crd, err := os.ReadFile("../testdata/engine/crd.yaml")
	require.NoError(t, err)
	_, err = s.AddCRD(crd, "crd.yaml")
	require.NoError(t, err)
	g, err := graph.Load("graph.yaml", []byte(src), graph.WithSchemas(s))
	require.NoError(t, err)
	return g
}

var privileges sync.Once

// leastPrivilege takes cluster-admin away from the operator user and grants it only what
// controllers.Rules says the test graphs need: the tests prove those rules suffice.
func leastPrivilege(t *testing.T) {
	t.Helper()
	privileges.Do(func() {
		cs, err := kubernetes.NewForConfig(cp.AdminConfig())
		require.NoError(t, err)
		ctx := context.Background()
		rules := append(controllers.Rules(mcpGraph(t)), controllers.Rules(loadGraph(t))...)
		rules = append(rules, controllers.Rules(controllers.LoadOptionalGraph(t))...)
		rules = append(rules, controllers.Rules(collectionsGraph(t))...)
		_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "loom-test"}, Rules: rules}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "loom-test"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "loom-test"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: controlplane.OperatorUser}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, cs.RbacV1().ClusterRoleBindings().Delete(ctx, controlplane.OperatorBinding, metav1.DeleteOptions{}))
	})
}

// startOperator runs the reconciler in this process, as the operator user, until the test
// ends.
func startOperator(t *testing.T, g *graph.Graph, config map[string]any) {
	t.Helper()
	runOperator(t, g, config)
}

// startOperatorIn is startOperator watching only the given namespaces.
func startOperatorIn(t *testing.T, g *graph.Graph, config map[string]any, namespaces ...string) {
	t.Helper()
	runOperatorWith(t, cp.OperatorConfig(), g, config, namespaces...)
}

// runOperator runs the reconciler in this process, as the operator user, until stop is
// called or the test ends.
func runOperator(t *testing.T, g *graph.Graph, config map[string]any) (stop func()) {
	t.Helper()
	return runOperatorWith(t, cp.OperatorConfig(), g, config)
}

// runOperatorWith is runOperator with the operator's rest.Config (a proxy's, say).
// It watches only the given namespaces, all when none are given.
func runOperatorWith(t *testing.T, cfg *rest.Config, g *graph.Graph, config map[string]any, namespaces ...string) (stop func()) {
	t.Helper()
	return runOperatorAs(t, g, config, operatorRun{cfg: cfg, namespaces: namespaces})
}

// operatorRun says how runOperatorAs runs the reconciler.
type operatorRun struct {
	cfg        *rest.Config // the operator's; cp.OperatorConfig() when nil
	namespaces []string     // the namespaces it watches; all when empty
	probeAddr  string       // where it serves /healthz and /readyz; nowhere when empty
}

// testDiscoveryPeriod is how often the tests' operators ask discovery about kinds not
// served yet (controllers.Options.DiscoveryPeriod).
const testDiscoveryPeriod = time.Second

// runOperatorAs runs the reconciler in this process as run says, until stop is called or
// the test ends.
func runOperatorAs(t *testing.T, g *graph.Graph, config map[string]any, run operatorRun) (stop func()) {
	t.Helper()
	leastPrivilege(t)
	cfg := run.cfg
	if cfg == nil {
		cfg = cp.OperatorConfig()
	}
	probeAddr := run.probeAddr
	if probeAddr == "" {
		probeAddr = "0"
	}
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	base := cache.Options{}
	if len(run.namespaces) > 0 {
		base.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range run.namespaces {
			base.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	cfg.QPS, cfg.Burst = 200, 400 // loom operator's defaults (--kube-api-qps, --kube-api-burst)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.CacheOptions(g, scheme, base),
		Client:                 controllers.ClientOptions(client.Options{}),
		MapperProvider:         controllers.MapperProvider(g),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: probeAddr,
	})
	require.NoError(t, err)
	ready, err := controllers.Add(mgr, g, controllers.Options{Concurrency: 4, Config: config, SkipNameValidation: true, DiscoveryPeriod: testDiscoveryPeriod})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	require.Eventually(t, func() bool { return ready(nil) == nil }, 30*time.Second, 50*time.Millisecond, "informer caches never synced")
	return stop
}

func adminDynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	return d
}

func newApp(ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.loom.dev/v1", "kind": "App",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}}
}

package controllers_test

import (
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/templates"
)

// Add wires the reconciler of a graph into a manager made with the graph's cache, client
// and REST mapper options (here restricted to two namespaces). Nothing talks to the cluster's
// objects before mgr.Start; until the informers have synced, the returned check (also the
// manager's "loom" readyz check) fails. It needs a cluster, so it is compiled, not run.
func ExampleAdd() {
	ctrl.SetLogger(logr.Discard())
	g, err := templates.LoadMCPServer()
	if err != nil {
		panic(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	cfg, err := ctrl.GetConfig() // --kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config
	if err != nil {
		panic(err)
	}
	opts := controllers.CacheOptions(g, scheme, cache.Options{})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  controllers.WatchNamespaces(opts, []string{"team-a", "team-b"}),
		Client: controllers.ClientOptions(client.Options{}),
		// A kind whose CRD is absent stops neither the manager nor other instances.
		MapperProvider: controllers.MapperProvider(g),
	})
	if err != nil {
		panic(err)
	}
	if _, err := controllers.Add(mgr, g, controllers.Options{
		Config:      map[string]any{"defaultIngressHost": "mcp.example.com", "maxReplicas": int64(10)},
		Concurrency: 8,
	}); err != nil {
		panic(err)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		panic(err)
	}
}

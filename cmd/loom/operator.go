package main

import (
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/loom-mcp/loom/controllers"
	"github.com/loom-mcp/loom/engine/graph"
	"github.com/loom-mcp/loom/internal/version"
)

type operatorFlags struct {
	fleetFlags
	zap                                                            zap.Options // the --zap-… logging flags
	kubeconfig, metricsAddr, probeAddr, pprofAddr, leaderNamespace string
	leaderElect                                                    bool
	memoryLimit                                                    string
	namespaces                                                     []string
	metricsSecure                                                  bool
	leaseDuration, renewDeadline, retryPeriod                      time.Duration
}

func newOperatorCmd() *cobra.Command {
	var f operatorFlags
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the operator: reconcile every instance of the graph's kind",
		Long: `Operator runs loom's controller manager. It loads the graph (the embedded MCPServer graph
unless --graph names another, typed by --crd files), reads the graph's configuration from
the environment variables the graph declares (for MCPServer: MCP_DEFAULT_INGRESS_HOST and
the others in the README) and from --set KEY=VALUE, and reconciles until SIGINT or SIGTERM.
/readyz on the probe address fails until the informer caches have synced.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runOperator(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then in-cluster)")
	f.fleetFlags.bind(fl, "reconciled")
	fl.StringVar(&f.metricsAddr, "metrics-bind-address", "127.0.0.1:8080", `metrics address ("0" turns metrics off)`)
	fl.StringVar(&f.probeAddr, "health-probe-bind-address", "127.0.0.1:8081", "address of /healthz and /readyz")
	fl.StringVar(&f.pprofAddr, "pprof-bind-address", "", "address of Go's /debug/pprof profiles, for measuring the operator (default: none)")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader, for running more than one replica")
	fl.StringVar(&f.leaderNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's)")
	fl.StringVar(&f.memoryLimit, "memory-limit", "", `soft limit of the Go runtime's memory, e.g. "64Mi" (default: $GOMEMLIMIT, else none); above it the garbage collector works harder`)
	fl.StringSliceVar(&f.namespaces, "namespaces", nil, "serve only these namespaces (comma-separated): watch and write nowhere else; `loom rbac --namespaces` prints the Roles this needs (default: every namespace)")
	fl.BoolVar(&f.metricsSecure, "metrics-secure", false, "serve metrics over HTTPS, only to callers whose token may get /metrics (TokenReview and SubjectAccessReview); the install sets it")
	fl.DurationVar(&f.leaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a standby waits, after the leader's last renewal, before it takes the lease")
	fl.DurationVar(&f.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader retries renewing before it gives up leading (and exits)")
	fl.DurationVar(&f.retryPeriod, "leader-election-retry-period", 2*time.Second, "how often candidates try to acquire or renew the lease")
	// --zap-log-level (info, debug, or a number: 2 for V(2)), --zap-devel (text logs,
	// debug level), --zap-encoder, --zap-stacktrace-level, --zap-time-encoding. JSON at
	// info by default.
	zapFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	f.zap.BindFlags(zapFlags)
	fl.AddGoFlagSet(zapFlags)
	return cmd
}

func runOperator(cmd *cobra.Command, f operatorFlags) error {
	logger := zap.New(zap.UseFlagOptions(&f.zap))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger) // client-go's own lines (leader election) in the same format
	build := version.Get()
	if f.memoryLimit != "" {
		q, err := resource.ParseQuantity(f.memoryLimit)
		if err != nil {
			return fmt.Errorf("--memory-limit %q: %w", f.memoryLimit, err)
		}
		debug.SetMemoryLimit(q.Value())
	}
	g, cfg, err := f.fleetFlags.load()
	if err != nil {
		return err
	}
	namespaces, err := operatorNamespaces(g, f.namespaces)
	if err != nil {
		return err
	}

	rest, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	rest.QPS, rest.Burst = f.qps, f.burst
	rest.UserAgent = "loom"
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	metricsOpts := metricsserver.Options{BindAddress: f.metricsAddr, SecureServing: f.metricsSecure}
	if f.metricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(rest, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   controllers.WatchNamespaces(controllers.CacheOptions(g, scheme, cache.Options{}), namespaces),
		Client:                  controllers.ClientOptions(client.Options{}),
		MapperProvider:          controllers.MapperProvider(g),
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "loom-" + g.Name,
		LeaderElectionNamespace: f.leaderNamespace,
		LeaseDuration:           &f.leaseDuration,
		RenewDeadline:           &f.renewDeadline,
		RetryPeriod:             &f.retryPeriod,
		// The process exits right after the manager stops: hand the lease over at once,
		// so a rollout does not wait out the lease duration.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}
	if _, err := controllers.Add(mgr, g, controllers.Options{Config: cfg, Concurrency: f.concurrency}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	// Loading the graph and the schemas leaves tens of MiB of garbage behind; hand it back
	// now rather than carry it as resident memory for the life of the process.
	debug.FreeOSMemory()
	buildInfo.WithLabelValues(build.Version, build.Commit, build.GoVersion).Set(1)
	ctrl.Log.Info("loom operator starting", "version", build.Version, "commit", build.Commit, "go", build.GoVersion,
		"graph", g.Name, "instance", g.Instance.GVK.String(), "resources", len(g.Nodes), "leaderElection", f.leaderElect,
		"namespaces", namespaces)
	// A context that can end is the caller's (a test's); otherwise SIGINT and SIGTERM end it.
	ctx := cmd.Context()
	if ctx == nil || ctx.Done() == nil {
		ctx = ctrl.SetupSignalHandler()
	}
	return mgr.Start(ctx)
}

// operatorNamespaces checks --namespaces for the graph: namespace names, and an instance
// kind that lives in namespaces.
func operatorNamespaces(g *graph.Graph, list []string) ([]string, error) {
	namespaces, err := parseNamespaces(list)
	if err != nil {
		return nil, err
	}
	if len(namespaces) > 0 && !g.Instance.Namespaced {
		return nil, fmt.Errorf("--namespaces: %s is cluster-scoped; only an operator of a namespaced kind can be restricted to namespaces", g.Instance.GVK.Kind)
	}
	return namespaces, nil
}

// setConfig sets each --set KEY=VALUE of set over cfg, parsed as the graph's key types it,
// and checks the whole against the graph's config keys.
func setConfig(g *graph.Graph, cfg map[string]any, set []string) (map[string]any, error) {
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: expected KEY=VALUE", kv)
		}
		val, err := g.ParseConfig(k, v)
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w", kv, err)
		}
		cfg[k] = val
	}
	if _, err := g.ConfigValues(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// buildInfo is loom_build_info: 1, labelled with the build that serves the metrics.
var buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "loom_build_info",
	Help: "The running build of loom: always 1, with its version, commit and Go version as labels.",
}, []string{"version", "commit", "goversion"})

func init() { metrics.Registry.MustRegister(buildInfo) }

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}

package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The users of the control plane, both authenticated by static bearer tokens.
const (
	// AdminUser is in system:masters. The control plane's own components use it too.
	AdminUser = "loom-admin"
	// OperatorUser is what loom's operator runs as: not system:masters, and the only user whose
	// requests the audit log records (WithAuditLog).
	OperatorUser = "loom-operator"
	// OperatorBinding is the ClusterRoleBinding that gives OperatorUser cluster-admin. A test
	// that wants to check loom's own RBAC deletes it and binds config/rbac instead.
	OperatorBinding = "loom-operator-cluster-admin"
)

// What kwok plays.
const (
	// FakeNode is the node kwok plays the kubelet of: Pods scheduled there go Running and Ready.
	FakeNode = "kwok-node-0"
	// IngressIP is the load-balancer address kwok writes into every Ingress's status.
	IngressIP = "127.0.0.1"
)

// binaries are the programs Start needs in the bin directory (built by `make tools`).
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// ControlPlane is a running control plane. Start fills every field; Stop undoes all of it.
type ControlPlane struct {
	// Dir holds everything the control plane writes; Stop removes it.
	Dir string
	// Kubeconfig is an admin kubeconfig (current context "loom-admin"; context "loom-operator"
	// uses the operator's token).
	Kubeconfig string
	// OperatorKubeconfig has only the operator's context.
	OperatorKubeconfig string
	// Server is kube-apiserver's URL, https://127.0.0.1:<port>.
	Server string
	// Audit is the operator's audit log, or nil without WithAuditLog.
	Audit *AuditLog
	// ReadyIn is how long Start took, from nothing to every component ready.
	ReadyIn time.Duration

	admin, operator *rest.Config
	components      []*component
	watchdog        *watchdog
	keepLogs        bool

	stopOnce sync.Once
	stopErr  error
}

// AdminConfig returns a new rest.Config for AdminUser. Its client is not held to
// client-go's default 5 requests a second: a test that reads a fleet's 50 statuses would
// spend 10 s waiting on its own client, and time the client instead of what it tests.
func (c *ControlPlane) AdminConfig() *rest.Config {
	cfg := rest.CopyConfig(c.admin)
	cfg.QPS, cfg.Burst = 500, 1000
	return cfg
}

// OperatorConfig returns a new rest.Config for OperatorUser.
func (c *ControlPlane) OperatorConfig() *rest.Config { return rest.CopyConfig(c.operator) }

// Option configures Start.
type Option func(*options)

type options struct {
	binDir       string
	dir          string
	parentDir    string
	audit        bool
	readyTimeout time.Duration
}

// WithBinDir says where the binaries are. Default: $LOOM_BIN_DIR, else the bin/ directory of
// the first parent of the working directory that has one with kube-apiserver in it.
func WithBinDir(dir string) Option { return func(o *options) { o.binDir = dir } }

// WithDir puts the control plane in dir, which must not exist yet, instead of a new temporary
// directory. `loom local` uses it so that the next command finds the control plane.
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithParentDir creates the temporary directory under parent instead of os.TempDir().
func WithParentDir(parent string) Option { return func(o *options) { o.parentDir = parent } }

// WithAuditLog makes kube-apiserver record every request of OperatorUser; see AuditLog.
func WithAuditLog() Option { return func(o *options) { o.audit = true } }

// WithReadyTimeout bounds how long Start waits for all components. The default, 90s, is far
// above the usual 3 to 15s, for a 2-core machine busy compiling.
func WithReadyTimeout(d time.Duration) Option { return func(o *options) { o.readyTimeout = d } }

// Start runs a control plane and returns when every component is ready, or else a
// *ComponentError for the first that exited or was not ready in time. A failed Start leaves no
// process and keeps only the directory's logs/ for the post-mortem; an interrupted one (ctx
// cancelled) leaves nothing. ctx bounds the start only: the control plane runs until Stop.
func Start(ctx context.Context, opts ...Option) (*ControlPlane, error) {
	begin := time.Now()
	o := options{readyTimeout: 90 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	binDir, err := findBinDir(o.binDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.readyTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		// A free port can be taken by another process (another control plane, or any client's
		// outgoing connection) between freePorts and the component's bind: try other ports.
		retry := attempt < 3
		c, err := start(ctx, o, binDir, retry)
		if err != nil && retry && errors.Is(err, errPortTaken) {
			continue
		}
		if c != nil {
			c.ReadyIn = time.Since(begin)
		}
		return c, err
	}
}

// errPortTaken marks a start that failed because a component could not bind its port.
var errPortTaken = errors.New("port taken")

// start is one attempt of Start. If it fails for a taken port and will be retried, it removes
// everything, logs too.
func start(ctx context.Context, o options, binDir string, retry bool) (_ *ControlPlane, err error) {
	dir, err := makeDir(o)
	if err != nil {
		return nil, err
	}
	c := &ControlPlane{Dir: dir}
	// The watchdog comes first, so that from here on even our sudden death cleans up.
	if c.watchdog, err = startWatchdog(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	defer func() {
		if err == nil {
			return
		}
		var compErr *ComponentError
		if errors.As(err, &compErr) && compErr.portTaken() {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		// The logs explain a failure; an interrupted start, or one tried again, needs no
		// explaining.
		c.keepLogs = !errors.Is(err, context.Canceled) && !(retry && errors.Is(err, errPortTaken))
		_ = c.Stop()
	}()

	// 1. Files; 2. etcd and kube-apiserver; 3. the rest, and the objects tests rely on.
	p, err := c.writeFiles(o)
	if err != nil {
		return nil, err
	}
	apiserver, cs, err := c.startAPIServer(ctx, binDir, p)
	if err != nil {
		return nil, err
	}
	if err := c.startNodeSide(ctx, binDir, p, apiserver, cs); err != nil {
		return nil, err
	}
	return c, nil
}

// plan is what writeFiles decides and the components are started with.
type plan struct {
	etcdPort, peerPort, apiPort, kcmPort, schedulerPort, kwokPort int
	secrets                                                       *secrets
	kwokConfig                                                    string
	auditArgs                                                     []string
}

// writeFiles is the first step of start: ports, credentials, kubeconfigs, kwok's stages and
// the audit policy.
func (c *ControlPlane) writeFiles(o options) (*plan, error) {
	for _, sub := range []string{"logs", "etcd"} {
		if err := os.Mkdir(filepath.Join(c.Dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	p := &plan{etcdPort: ports[0], peerPort: ports[1], apiPort: ports[2], kcmPort: ports[3], schedulerPort: ports[4], kwokPort: ports[5]}
	if p.secrets, err = writeSecrets(c.Dir); err != nil {
		return nil, err
	}
	c.Server = "https://127.0.0.1:" + strconv.Itoa(p.apiPort)
	if err := c.writeKubeconfigs(p.secrets); err != nil {
		return nil, err
	}
	p.kwokConfig = filepath.Join(c.Dir, "kwok.yaml")
	if err := os.WriteFile(p.kwokConfig, []byte(kwokStages), 0o600); err != nil {
		return nil, err
	}
	if o.audit {
		if c.Audit, p.auditArgs, err = writeAuditPolicy(c.Dir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// startAPIServer is the second step of start: etcd, then kube-apiserver, each waited for;
// nothing else can start usefully before kube-apiserver serves.
func (c *ControlPlane) startAPIServer(ctx context.Context, binDir string, p *plan) (*component, *kubernetes.Clientset, error) {
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(p.etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(p.peerPort)
	etcd, err := c.start(binDir, "etcd",
		"--name", "loom", "--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "loom="+peerURL,
		// The data is thrown away with the directory: durability buys nothing here.
		"--unsafe-no-fsync")
	if err != nil {
		return nil, nil, err
	}
	if err := waitFor(ctx, check{etcd, httpCheck(etcdURL+"/health", nil)}); err != nil {
		return nil, nil, err
	}
	s := p.secrets
	apiserver, err := c.start(binDir, "kube-apiserver", append([]string{
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(p.apiPort),
		// Without it kube-apiserver looks for the host's network interface, which a sandbox
		// may not have; with no endpoint reconciler the address is never published.
		"--advertise-address", "127.0.0.1", "--endpoint-reconciler-type", "none",
		"--tls-cert-file", s.certFile, "--tls-private-key-file", s.keyFile,
		"--client-ca-file", s.caFile,
		"--token-auth-file", s.tokenFile,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", s.saKeyFile, "--service-account-signing-key-file", s.saKeyFile,
		"--service-cluster-ip-range", "10.96.0.0/16",
		// ServiceAccount: no kubelet mounts tokens here, and Pods need not wait for their
		// ServiceAccount. TaintNodesByCondition: it taints a new node not-ready, and only the
		// node-lifecycle controller, disabled below, would lift the taint.
		"--disable-admission-plugins", "ServiceAccount,TaintNodesByCondition",
	}, p.auditArgs...)...)
	if err != nil {
		return nil, nil, err
	}
	cs, err := newClient(c.admin)
	if err != nil {
		return nil, nil, err
	}
	if err := waitFor(ctx, check{apiserver, apiserverReady(cs)}); err != nil {
		return nil, nil, err
	}
	return apiserver, cs, nil
}

// startNodeSide is the last step of start: everything that talks to kube-apiserver
// (kube-controller-manager, kube-scheduler, kwok), then the objects the tests rely on, and
// the wait until all of it is ready.
func (c *ControlPlane) startNodeSide(ctx context.Context, binDir string, p *plan, apiserver *component, cs *kubernetes.Clientset) error {
	s := p.secrets
	kcm, err := c.start(binDir, "kube-controller-manager",
		"--kubeconfig", c.Kubeconfig,
		"--authentication-kubeconfig", c.Kubeconfig, "--authorization-kubeconfig", c.Kubeconfig,
		"--leader-elect=false",
		// node-lifecycle: on a busy machine kwok's heartbeats come late, the controller marks
		// the fake node NotReady and every Pod stops being ready. The token controller has no
		// use without kubelets mounting tokens.
		"--controllers", "*,-serviceaccount-token-controller,-node-lifecycle-controller",
		"--service-account-private-key-file", s.saKeyFile, "--root-ca-file", s.caFile,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(p.kcmPort),
		"--cert-dir", filepath.Join(c.Dir, "kube-controller-manager"),
		// Benchmarks create many Deployments: keep the cluster's side from being the bottleneck.
		"--kube-api-qps", "200", "--kube-api-burst", "400")
	if err != nil {
		return err
	}
	scheduler, err := c.start(binDir, "kube-scheduler",
		"--kubeconfig", c.Kubeconfig,
		"--authentication-kubeconfig", c.Kubeconfig, "--authorization-kubeconfig", c.Kubeconfig,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(p.schedulerPort),
		"--cert-dir", filepath.Join(c.Dir, "kube-scheduler"))
	if err != nil {
		return err
	}
	kwokURL := "http://127.0.0.1:" + strconv.Itoa(p.kwokPort)
	kwok, err := c.start(binDir, "kwok",
		"--kubeconfig", c.Kubeconfig, "--config", p.kwokConfig,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector", fakeNodeAnnotation+"=fake",
		"--cidr", "10.244.0.1/16", "--node-ip", "10.0.0.1",
		"--server-address", "127.0.0.1:"+strconv.Itoa(p.kwokPort))
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, cs); err != nil {
		return apiserver.fail(err)
	}
	insecure := insecureTransport()
	others := []check{
		{apiserver, defaultNamespace(cs)},
		{kcm, httpCheck("https://127.0.0.1:"+strconv.Itoa(p.kcmPort)+"/healthz", insecure)},
		{scheduler, httpCheck("https://127.0.0.1:"+strconv.Itoa(p.schedulerPort)+"/healthz", insecure)},
	}
	kwokReady := func(kwok *component) []check {
		return append(others, check{kwok, httpCheck(kwokURL+"/healthz", nil)}, check{kwok, nodeReady(cs)})
	}
	err = waitFor(ctx, kwokReady(kwok)...)
	if err == nil || kwok.running() {
		return err
	}
	// kwok v0.7.0 now and then panics while it starts (a race inside its own start-up, seen
	// in its CEL environment); a second start comes up. Only kwok is started again: it
	// keeps no state of its own.
	if kwok, err = c.respawn(c.componentIndex("kwok")); err != nil {
		return err
	}
	return waitFor(ctx, kwokReady(kwok)...)
}

// Stop ends every component and removes Dir. It is safe to call more than once and from
// several goroutines; later calls return the first call's result.
func (c *ControlPlane) Stop() error {
	c.stopOnce.Do(func() {
		pids := make([]int, 0, len(c.components))
		byPid := map[int]*component{}
		for _, comp := range c.components {
			pids = append(pids, comp.pid)
			byPid[comp.pid] = comp
		}
		stopProcesses(pids, 5*time.Second, func(pid int) bool { return byPid[pid].running() })
		var errs []error
		for _, comp := range c.components {
			if comp.running() {
				errs = append(errs, fmt.Errorf("%s (pid %d) survived SIGKILL", comp.name, comp.pid))
			}
		}
		errs = append(errs, c.removeDir())
		c.watchdog.release()
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// Detach leaves the control plane running after this process exits: its watchdog goes away.
// StopDir(c.Dir) stops it later, from any process.
func (c *ControlPlane) Detach() { c.watchdog.release() }

// removeDir removes Dir, or after a failed start everything in it but the logs.
func (c *ControlPlane) removeDir() error {
	if !c.keepLogs {
		return os.RemoveAll(c.Dir)
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Name() != "logs" {
			errs = append(errs, os.RemoveAll(filepath.Join(c.Dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// start runs a component, hands it to the watchdog and records it in state.json for StopDir.
func (c *ControlPlane) start(binDir, name string, args ...string) (*component, error) {
	comp, err := startComponent(c.Dir, binDir, name, args...)
	if err != nil {
		return nil, err
	}
	c.watchdog.watch(comp.pid)
	c.components = append(c.components, comp)
	return comp, c.writeState()
}

// state is what state.json records about a control plane, for the processes that did not
// start it (`loom local status|down`).
type state struct {
	Server     string      `json:"server"`
	Components []Component `json:"components"`
}

// Component is one process of a control plane, as StopDir and Status see it.
type Component struct {
	Name    string `json:"name"`
	PID     int    `json:"pid"`
	Log     string `json:"log"`
	Running bool   `json:"-"` // filled by Status
}

func (c *ControlPlane) writeState() error {
	st := state{Server: c.Server}
	for _, comp := range c.components {
		st.Components = append(st.Components, Component{Name: comp.name, PID: comp.pid, Log: comp.log})
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, "state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, "state.json"))
}

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	return &st, nil
}

// StopDir stops the control plane in dir, started by any process (see Detach), and removes
// dir. A dir that does not exist is not an error: there is nothing to stop.
func StopDir(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := readState(dir)
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) {
			return nil
		}
		// A start that failed before its first component: nothing runs.
		return os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	pids := make([]int, 0, len(st.Components))
	for _, comp := range st.Components {
		pids = append(pids, comp.PID)
	}
	alive := func(pid int) bool { return runsIn(pid, dir) }
	stopProcesses(pids, 5*time.Second, alive)
	for _, comp := range st.Components {
		if alive(comp.PID) {
			return fmt.Errorf("%s (pid %d) survived SIGKILL; %s left in place", comp.Name, comp.PID, dir)
		}
	}
	return os.RemoveAll(dir)
}

// Status describes the control plane in dir: the API server's URL and each recorded component,
// with whether it still runs. The error wraps os.ErrNotExist when dir has no control plane.
func Status(dir string) (server string, components []Component, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return "", nil, err
	}
	for i := range st.Components {
		st.Components[i].Running = runsIn(st.Components[i].PID, dir)
	}
	return st.Server, st.Components, nil
}

func makeDir(o options) (string, error) {
	if o.dir == "" {
		return os.MkdirTemp(o.parentDir, "loom-controlplane-")
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("%s exists: a control plane may run there (stop it first)", dir)
		}
		return "", err
	}
	return dir, nil
}

// findBinDir returns the directory with the control plane's binaries, or an error that says
// which are missing and how to build them.
func findBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("LOOM_BIN_DIR")
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(wd, "bin") // reported if no parent has them
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "bin", "kube-apiserver")); err == nil {
				dir = filepath.Join(d, "bin")
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var missing []string
	for _, name := range binaries {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("control plane binaries missing from %s: %v; run `make tools` in loom's repository "+
			"(it builds them from hack/tools; the first build takes several minutes), or point --bin-dir / "+
			"LOOM_BIN_DIR at them", dir, missing)
	}
	return dir, nil
}

// freePorts asks the kernel for n distinct free loopback ports. They are free when this
// returns; a process that grabs one before its component binds shows in that component's log.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so none is chosen twice
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/loom-mcp/loom/internal/controlplane"
)

// Leader election timings of the two-replica test: short, so failover shows in seconds.
const (
	testLease = 4 * time.Second
	testRenew = 3 * time.Second
	testRetry = 500 * time.Millisecond
)

// TestInstall installs loom as a user does (the release manifest, applied with kubectl),
// then runs two `loom operator` processes with the ServiceAccount token of that install and
// leader election, and checks: only the install's RBAC, both replicas Ready, the examples
// converge, the metrics endpoint answers an authorised token and refuses others, and after
// a SIGKILL of the leader the other replica takes the lease within the lease duration and
// converges a server created after the kill.
func TestInstall(t *testing.T) {
	ctx := context.Background()
	cp, err := controlplane.Start(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, cp.Stop()) })
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	kubectlIn := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binPath(t, "kubectl"), append([]string{"--kubeconfig", cp.Kubeconfig}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "kubectl %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	kubectl := func(args ...string) string { t.Helper(); return kubectlIn("", args...) }

	// 1. The release manifest, as make dist writes it, pinned by digest; kubectl apply
	// creates every object.
	digest := "sha256:" + strings.Repeat("ab", 32)
	manifest, err := exec.Command("bash", "../../hack/dist.sh", binPath(t, "kubectl"), "registry.example.com/loom", digest).Output()
	require.NoError(t, err)
	assert.Contains(t, string(manifest), "image: registry.example.com/loom@"+digest)
	install := filepath.Join(t.TempDir(), "install.yaml")
	require.NoError(t, os.WriteFile(install, manifest, 0o644))
	out := kubectl("apply", "-f", install)
	for _, want := range []string{
		"namespace/loom-system created",
		"customresourcedefinition.apiextensions.k8s.io/mcpservers.mcpruntime.org created",
		"serviceaccount/loom created",
		"role.rbac.authorization.k8s.io/loom-leader-election created",
		"clusterrole.rbac.authorization.k8s.io/loom created",
		"clusterrole.rbac.authorization.k8s.io/loom-metrics-auth created",
		"clusterrole.rbac.authorization.k8s.io/loom-metrics-reader created",
		"rolebinding.rbac.authorization.k8s.io/loom-leader-election created",
		"clusterrolebinding.rbac.authorization.k8s.io/loom created",
		"service/loom-metrics created",
		"deployment.apps/loom created",
	} {
		assert.Contains(t, out, want)
	}
	kubectl("wait", "--for", "condition=Established", "crd/mcpservers.mcpruntime.org", "--timeout", "30s")
	// kwok plays the node: the Deployment's two Pods run as fakes and report Ready.
	kubectl("-n", "loom-system", "rollout", "status", "deployment/loom", "--timeout", "60s")

	// 2. The operator's identity is the install's ServiceAccount, nothing more.
	operatorKubeconfig := tokenKubeconfig(t, cp, cs, "loom-system", "loom")

	// 3. Two replicas with leader election: both become Ready; one leads.
	dir := t.TempDir()
	a := startOperator(t, dir, "a", operatorKubeconfig)
	b := startOperator(t, dir, "b", operatorKubeconfig)
	for _, op := range []*operatorProcess{a, b} {
		require.Eventually(t, func() bool { return op.ready() }, 60*time.Second, 200*time.Millisecond,
			"operator %s never became ready (its log follows)", op.name)
	}

	// 4. The examples converge.
	kubectl("apply", "-f", "../../examples")
	kubectl("wait", "--for", "condition=Ready", "mcpservers", "--all", "--timeout", "120s")

	// 5. Metrics: an identity bound to loom-metrics-reader reads them; no token is refused
	// (401); a token without the binding (the operator's own) is forbidden (403).
	scraper := "loom-metrics-test"
	_, err = cs.CoreV1().ServiceAccounts("loom-system").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: scraper}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: scraper},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "loom-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: scraper, Namespace: "loom-system"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	readerToken := token(t, cs, "loom-system", scraper)
	leader, standby := a, b
	require.Eventually(t, func() bool {
		switch {
		case a.leads(readerToken):
			leader, standby = a, b
		case b.leads(readerToken):
			leader, standby = b, a
		default:
			return false
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "no replica reports leader_election_master_status 1")
	code, body := leader.scrape(readerToken)
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{
		`loom_build_info{commit="`,
		`loom_instances{graph="mcpserver",phase="Ready"} 3`,
		`loom_render_duration_seconds_count{graph="mcpserver"}`,
		`loom_applies_total{graph="mcpserver",kind="Deployment",result="created"} 3`,
		`loom_conflicts_held{graph="mcpserver"} 0`,
		`loom_watch_events_total{event="add",graph="mcpserver",kind="Deployment"}`,
	} {
		assert.True(t, strings.Contains(body, want), "the leader's metrics lack %s", want)
	}
	// The standby sees the same instances from its own cache, though it applies nothing.
	_, standbyBody := standby.scrape(readerToken)
	assert.True(t, strings.Contains(standbyBody, `loom_instances{graph="mcpserver",phase="Ready"} 3`), "the standby counts the instances")
	assert.False(t, strings.Contains(standbyBody, `loom_applies_total`), "the standby applies nothing")
	code, _ = leader.scrape("")
	assert.Equal(t, http.StatusUnauthorized, code, "no token")
	code, _ = leader.scrape(token(t, cs, "loom-system", "loom"))
	assert.Equal(t, http.StatusForbidden, code, "a token not allowed to get /metrics")

	// 6. SIGKILL the leader: it cannot hand the lease over. The standby takes it once the
	// lease expires, and converges a server created after the kill.
	killed := time.Now()
	require.NoError(t, leader.cmd.Process.Signal(syscall.SIGKILL))
	kubectlIn(`apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: after-failover, namespace: default}
spec: {image: registry.example.com/demo/after, imageTag: "1", ingressHost: after.example.com}
`, "apply", "-f", "-")
	require.Eventually(t, func() bool { return standby.leads(readerToken) }, 30*time.Second, 100*time.Millisecond,
		"the standby never took the lease (its log follows)")
	tookOver := time.Since(killed)
	t.Logf("the standby took the lease %.1fs after the leader was killed (lease %s, retry %s)", tookOver.Seconds(), testLease, testRetry)
	// The lease was renewed at most a retry period before the kill; past its duration, the
	// standby's next try (one retry period) takes it. The margin is for a loaded machine.
	assert.Less(t, tookOver, testLease+2*testRetry+5*time.Second, "failover within the lease duration")
	assert.True(t, standby.ready(), "the new leader stays ready")
	kubectl("wait", "--for", "condition=Ready", "mcpserver/after-failover", "--timeout", "60s")
}

// binPath is a binary of the control plane's bin directory ($LOOM_BIN_DIR, else bin/).
func binPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("LOOM_BIN_DIR")
	if dir == "" {
		dir = "../../bin"
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	require.NoError(t, err)
	return p
}

// token asks the API server for a token of a ServiceAccount (TokenRequest), as a kubelet
// does for a Pod.
func token(t *testing.T, cs kubernetes.Interface, ns, sa string) string {
	t.Helper()
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	require.NoError(t, err)
	return tr.Status.Token
}

// tokenKubeconfig writes a kubeconfig that authenticates as the ServiceAccount ns/sa.
func tokenKubeconfig(t *testing.T, cp *controlplane.ControlPlane, cs kubernetes.Interface, ns, sa string) string {
	t.Helper()
	admin := cp.AdminConfig()
	ca := admin.CAData
	if len(ca) == 0 {
		var err error
		ca, err = os.ReadFile(admin.CAFile)
		require.NoError(t, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: cp.Server, CertificateAuthorityData: ca}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: token(t, cs, ns, sa)}
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "local", AuthInfo: sa}
	cfg.CurrentContext = sa
	path := filepath.Join(t.TempDir(), sa+".kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// operatorProcess is a `loom operator` process: this test binary run as loom.
type operatorProcess struct {
	name           string
	cmd            *exec.Cmd
	log            string
	metrics, probe string // host:port
}

func startOperator(t *testing.T, dir, name, kubeconfig string) *operatorProcess {
	t.Helper()
	op := &operatorProcess{name: name, log: filepath.Join(dir, name+".log"), metrics: freeAddr(t), probe: freeAddr(t)}
	logFile, err := os.Create(op.log)
	require.NoError(t, err)
	op.cmd = exec.Command(os.Args[0], "operator", "--kubeconfig", kubeconfig,
		"--leader-elect", "--leader-election-namespace", "loom-system",
		"--leader-election-lease-duration", testLease.String(),
		"--leader-election-renew-deadline", testRenew.String(),
		"--leader-election-retry-period", testRetry.String(),
		"--metrics-bind-address", op.metrics, "--metrics-secure",
		"--health-probe-bind-address", op.probe, "--zap-log-level", "debug")
	op.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	op.cmd.Stdout, op.cmd.Stderr = logFile, logFile
	require.NoError(t, op.cmd.Start())
	t.Cleanup(func() {
		_ = op.cmd.Process.Signal(syscall.SIGTERM)
		_ = op.cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("operator %s, the end of its log:\n%s", op.name, op.logTail())
		}
	})
	return op
}

func (op *operatorProcess) ready() bool {
	resp, err := http.Get("http://" + op.probe + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

var leaderMetric = regexp.MustCompile(`(?m)^leader_election_master_status\{name="loom-mcpserver"\} 1$`)

func (op *operatorProcess) leads(token string) bool {
	code, body := op.scrape(token)
	return code == http.StatusOK && leaderMetric.MatchString(body)
}

// scrape GETs /metrics with token as the bearer ("" for none). The certificate is the
// self-signed one the metrics server makes at start.
func (op *operatorProcess) scrape(token string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, "https://"+op.metrics+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (op *operatorProcess) logTail() string {
	data, _ := os.ReadFile(op.log)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freeAddr is a free loopback port, as host:port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

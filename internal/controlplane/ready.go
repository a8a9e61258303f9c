package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// check is one readiness condition, blamed on comp when it does not hold in time.
type check struct {
	comp *component
	ok   func(context.Context) error
}

// waitFor polls the checks until all have held once. It fails at once when a component exits,
// and at ctx's deadline with the first check that still fails.
func waitFor(ctx context.Context, checks ...check) error {
	lastErr := make([]error, len(checks))
	passed := make([]bool, len(checks))
	for {
		all := true
		for i, ch := range checks {
			if !ch.comp.running() {
				<-ch.comp.exited
				return ch.comp.fail(fmt.Errorf("exited during start: %v", ch.comp.err))
			}
			if passed[i] {
				continue
			}
			callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			lastErr[i] = ch.ok(callCtx)
			cancel()
			passed[i] = lastErr[i] == nil
			all = all && passed[i]
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("start interrupted: %w", ctx.Err()) // nobody's fault
			}
			for i, ch := range checks {
				if !passed[i] {
					return ch.comp.fail(fmt.Errorf("not ready in time; last check: %v", lastErr[i]))
				}
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// httpCheck wants 200 from url. transport nil means http.DefaultTransport.
func httpCheck(url string, transport http.RoundTripper) func(context.Context) error {
	client := &http.Client{Transport: transport}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	}
}

// insecureTransport is for the health endpoints of kube-controller-manager and kube-scheduler,
// which serve a self-signed certificate made at their start; the endpoints carry no secret.
func insecureTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // see above
	return t
}

func apiserverReady(cs kubernetes.Interface) func(context.Context) error {
	return func(ctx context.Context) error {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("/readyz: %v: %s", err, body)
		}
		return nil
	}
}

// defaultNamespace waits for kube-apiserver's bootstrap controller to create "default", which
// tests and examples use right away; /readyz does not wait for it.
func defaultNamespace(cs kubernetes.Interface) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		return err
	}
}

func nodeReady(cs kubernetes.Interface) func(context.Context) error {
	return func(ctx context.Context) error {
		node, err := cs.CoreV1().Nodes().Get(ctx, FakeNode, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(node.Spec.Taints) > 0 {
			return fmt.Errorf("node %s has taints %v: Pods would not schedule", FakeNode, node.Spec.Taints)
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("node %s is not Ready yet", FakeNode)
	}
}

// bootstrap creates what Start promises besides the processes: the operator's binding and the
// fake node kwok looks after.
func bootstrap(ctx context.Context, cs kubernetes.Interface) error {
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: OperatorBinding},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: OperatorUser}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ClusterRoleBinding %s: %w", OperatorBinding, err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        FakeNode,
		Annotations: map[string]string{fakeNodeAnnotation: "fake"},
		Labels: map[string]string{
			"kubernetes.io/hostname": FakeNode, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"type": "kwok",
		},
	}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Node %s: %w", FakeNode, err)
	}
	return nil
}

func newClient(cfg *rest.Config) (*kubernetes.Clientset, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// writeKubeconfigs writes both kubeconfigs and sets the matching rest.Configs.
func (c *ControlPlane) writeKubeconfigs(s *secrets) error {
	c.admin = &rest.Config{Host: c.Server, BearerToken: s.adminToken, TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM}}
	c.operator = &rest.Config{Host: c.Server, BearerToken: s.operatorToken, TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM}}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	c.OperatorKubeconfig = filepath.Join(c.Dir, "operator.kubeconfig")

	kubeconfig := func(current string, users map[string]string) clientcmdapi.Config {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["loom-local"] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: s.caPEM}
		for user, token := range users {
			cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
			cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "loom-local", AuthInfo: user, Namespace: metav1.NamespaceDefault}
		}
		cfg.CurrentContext = current
		return *cfg
	}
	admin := kubeconfig(AdminUser, map[string]string{AdminUser: s.adminToken, OperatorUser: s.operatorToken})
	if err := clientcmd.WriteToFile(admin, c.Kubeconfig); err != nil {
		return err
	}
	return clientcmd.WriteToFile(kubeconfig(OperatorUser, map[string]string{OperatorUser: s.operatorToken}), c.OperatorKubeconfig)
}

package controlplane_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/loom-mcp/loom/internal/controlplane"
)

// cp is the package's control plane, started by TestMain.
var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &cp, controlplane.WithAuditLog()))
}

func adminClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	require.NoError(t, err)
	return cs
}

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

func TestDeploymentBecomesAvailable(t *testing.T) {
	ctx := context.Background()
	cs := adminClient(t)
	ns := namespace(t, cs)
	labels := map[string]string{"app": "web"}
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				// kwok runs no container: the image is never pulled.
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(c, err)
		assert.Equal(c, int32(2), d.Status.AvailableReplicas)
		assert.True(c, hasCondition(d.Status.Conditions, appsv1.DeploymentAvailable))
	}, 60*time.Second, 200*time.Millisecond)

	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, pods.Items, 2)
	for _, p := range pods.Items {
		assert.Equal(t, controlplane.FakeNode, p.Spec.NodeName, "scheduled by kube-scheduler")
		assert.Equal(t, corev1.PodRunning, p.Status.Phase, "run by kwok")
	}
}

func hasCondition(conds []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType) bool {
	for _, c := range conds {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func TestIngressGetsLoadBalancerAddress(t *testing.T) {
	ctx := context.Background()
	cs := adminClient(t)
	ns := namespace(t, cs)
	_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(c, err)
		require.Len(c, ing.Status.LoadBalancer.Ingress, 1)
		assert.Equal(c, controlplane.IngressIP, ing.Status.LoadBalancer.Ingress[0].IP)
	}, 30*time.Second, 200*time.Millisecond)
}

func TestGarbageCollectorDeletesDependents(t *testing.T) {
	ctx := context.Background()
	cs := adminClient(t)
	ns := namespace(t, cs)
	owner, err := cs.CoreV1().ConfigMaps(ns).Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name:            "dependent",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, cs.CoreV1().ConfigMaps(ns).Delete(ctx, "owner", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "dependent", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 200*time.Millisecond, "kube-controller-manager's garbage collector deletes the dependent")
}

func TestOperatorUserIsAuditedAndNotMaster(t *testing.T) {
	ctx := context.Background()
	admin := adminClient(t)
	ns := namespace(t, admin)
	op, err := kubernetes.NewForConfig(cp.OperatorConfig())
	require.NoError(t, err)

	review, err := op.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Equal(t, controlplane.OperatorUser, review.Status.UserInfo.Username)
	assert.NotContains(t, review.Status.UserInfo.Groups, "system:masters")

	since := time.Now()
	_, err = op.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = op.CoreV1().ConfigMaps(ns).Get(ctx, "a", metav1.GetOptions{})
	require.NoError(t, err)
	_, err = admin.CoreV1().ConfigMaps(ns).Get(ctx, "a", metav1.GetOptions{}) // not audited
	require.NoError(t, err)

	counts, err := cp.Audit.Count(since)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"create configmaps": 1, "get configmaps": 1}, counts)

	// Without the binding, RBAC denies the operator: it really is not system:masters.
	require.NoError(t, admin.RbacV1().ClusterRoleBindings().Delete(ctx, controlplane.OperatorBinding, metav1.DeleteOptions{}))
	t.Cleanup(func() { recreateBinding(t, admin) })
	require.Eventually(t, func() bool {
		_, err := op.CoreV1().ConfigMaps(ns).Get(ctx, "a", metav1.GetOptions{})
		return apierrors.IsForbidden(err)
	}, 10*time.Second, 100*time.Millisecond)
}

func recreateBinding(t *testing.T, cs kubernetes.Interface) {
	_, err := cs.RbacV1().ClusterRoleBindings().Create(context.Background(), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: controlplane.OperatorBinding},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: controlplane.OperatorUser}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

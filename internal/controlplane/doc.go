// Package controlplane owns a real, disposable Kubernetes control plane on loopback for loom's
// integration tests, `loom local` and `make run`: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, built by `make tools` into bin/ from the pins in hack/tools. It may
// import only client-go, k8s.io/api, k8s.io/apimachinery and the standard library; nothing of
// loom's engine or controllers, and never package testing (RunTests takes an interface).
//
// It owns one temporary directory per control plane (certificates, tokens, kubeconfigs, etcd
// data, component logs, the audit log) and the component processes, each in its own session so
// that teardown reaches it and a terminal's Ctrl-C does not. Stop, a signal, a panic in TestMain
// and even the death of the owning process (through a small watchdog) all end with no process
// and no directory left. kwok plays the kubelet of one fake node and the ingress controller, so
// Deployments become Available and Ingresses get a load-balancer address.
package controlplane

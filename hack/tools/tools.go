//go:build tools

// Package tools pins the versions of the programs loom's Makefile builds into bin/ (see
// build.sh): controller-gen, and the local control plane's etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubectl and kwok.
//
// One module holds them all. k8s.io/kubernetes points its k8s.io/* staging modules at
// ./staging, so go.mod replaces each with its published v0.33.13. etcd's server needs no
// second module: k8s.io/kubernetes v1.33.13 itself requires go.etcd.io/etcd/server/v3 v3.5.21.
// kwok v0.7.0 raises grpc (1.71) and cel-go (0.24.1) above what Kubernetes asks for; the
// Kubernetes binaries build and pass loom's integration tests with them.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)

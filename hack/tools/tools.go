//go:build tools

// Package tools pins the versions of the programs loom's Makefile builds into bin/
// (see build.sh): controller-gen, and the local control plane's etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubectl and kwok.
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

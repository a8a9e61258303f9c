//go:build tools

// Package tools pins the versions of the programs loom's Makefile builds into bin/.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)

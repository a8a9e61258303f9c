#!/usr/bin/env bash
# Builds the programs pinned by hack/tools/go.mod into a bin directory (default: the repo's bin/):
# controller-gen and the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok). Only binaries that are missing, or older than go.mod (a pin
# changed), are built, all in one `go build` so shared packages compile once.
set -euo pipefail

tools_dir=$(cd "$(dirname "$0")" && pwd)
bin=$(mkdir -p "${1:-$tools_dir/../../bin}" && cd "${1:-$tools_dir/../../bin}" && pwd)

# Kubernetes binaries report this version; without it clients see v0.0.0-master. Keep it equal
# to the k8s.io/kubernetes requirement in go.mod.
kube_version=v1.33.13

# name=package; etcd's main package is the root of its server module.
tools=(
	controller-gen=sigs.k8s.io/controller-tools/cmd/controller-gen
	etcd=go.etcd.io/etcd/server/v3
	kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver
	kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager
	kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
	kubectl=k8s.io/kubernetes/cmd/kubectl
	kwok=sigs.k8s.io/kwok/cmd/kwok
)

names=() pkgs=()
for t in "${tools[@]}"; do
	name=${t%%=*}
	if [[ -x $bin/$name && ! $tools_dir/go.mod -nt $bin/$name ]]; then continue; fi
	names+=("$name") pkgs+=("${t#*=}")
done
if ((${#names[@]} == 0)); then
	echo "tools: all present in $bin"
	exit 0
fi

echo "tools: building ${names[*]} into $bin"
echo "tools: the first build (empty Go caches) takes several minutes: 6 to 12 on 2 cores"
major=${kube_version#v}; major=${major%%.*}
minor=${kube_version#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean"
done

# Build into a scratch directory and move into place, so an interrupted build never leaves a
# truncated binary that the next run would take as present.
out=$(mktemp -d "$bin/.tools-build.XXXXXX")
trap 'rm -rf "$out"' EXIT
start=$SECONDS
(cd "$tools_dir" && GOWORK=off go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
for i in "${!names[@]}"; do
	# go build names a binary after its package's last path element, or the one before a
	# major-version suffix (go.etcd.io/etcd/server/v3 -> server).
	built=${pkgs[$i]%/v[0-9]*}; built=${built##*/}
	mv -f "$out/$built" "$bin/${names[$i]}"
done
echo "tools: built ${names[*]} in $((SECONDS - start))s"

#!/usr/bin/env bash
# The release manifest (make dist): config/default rendered by kubectl's kustomize, with
# loom's image pinned by digest.
#   hack/dist.sh KUBECTL IMAGE DIGEST > install.yaml
set -euo pipefail
kubectl=$1 image=$2 digest=$3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.cache"
# kustomize takes bases only by relative path: the overlay lives inside the repository.
overlay=$(mktemp -d "$root/.cache/dist.XXXXXX")
trap 'rm -rf "$overlay"' EXIT
cat >"$overlay/kustomization.yaml" <<YAML
resources: [../../config/default]
images:
- {name: ghcr.io/loom-mcp/loom, newName: $image, digest: $digest}
YAML
"$kubectl" kustomize "$overlay"

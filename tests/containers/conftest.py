"""The container fleet: the umbrella chart rendered with its defaults, every
workload run from its built image on one podman network (tests/containers/kubelet.py).

Which models and versions exist comes from charts/modelfleet/values.yaml, the
file the chart renders, so a model added there is smoke-tested without a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.charts.fixtures import helm
from tests.charts.helm import ROOT, Helm, Manifest
from tests.containers.kubelet import Kubelet, Pod, pod_spec
from tests.containers.podman import require_images

__all__ = ["MODEL_VERSIONS", "Fleet", "fleet", "helm", "kubelet_for", "model_workload"]

VALUES = yaml.safe_load((ROOT / "charts" / "modelfleet" / "values.yaml").read_text())
MODEL_VERSIONS = [(m, v) for m, spec in VALUES["models"].items() for v in spec["versions"]]
"""(model, version) for every version the values file serves."""

KubeletFor = Callable[..., Kubelet]


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    """Deployments and Pods (helm test hooks included), in helm's order."""
    return [m for m in manifests if m["kind"] in ("Deployment", "Pod")]


def model_workload(manifests: list[Manifest], model: str, version: str) -> Manifest:
    (found,) = [
        m for m in workloads(manifests)
        if m["metadata"].get("labels", {}).get("modelfleet.io/model") == model
        and m["metadata"]["labels"].get("modelfleet.io/version") == version
    ]  # fmt: skip
    return found


def gateway_workload(manifests: list[Manifest]) -> Manifest:
    (found,) = [
        m for m in workloads(manifests)
        if m["kind"] == "Deployment" and m["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway"
    ]  # fmt: skip
    return found


@pytest.fixture(scope="session")
def rendered(helm: Helm) -> list[Manifest]:
    """The umbrella chart with its default values; skips (fails in CI) without its images."""
    manifests = helm.template()
    require_images(
        sorted({c["image"] for w in workloads(manifests) for c in pod_spec(w)["containers"]})
    )
    return manifests


@pytest.fixture(scope="session")
def kubelet_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeletFor]:
    """Make a Kubelet for a render (each on its own network); all closed at the end."""
    made: list[Kubelet] = []

    def make(manifests: list[Manifest], claims: dict[str, Path] | None = None) -> Kubelet:
        kubelet = Kubelet(manifests, tmp_path_factory.mktemp("kubelet"), claims or {})
        made.append(kubelet)
        return kubelet

    yield make
    for kubelet in made:
        kubelet.close()


@dataclass
class Fleet:
    kubelet: Kubelet
    models: dict[tuple[str, str], Pod]
    gateway: Pod


@pytest.fixture(scope="session")
def fleet(rendered: list[Manifest], kubelet_for: KubeletFor) -> Fleet:
    """Every model version and the gateway, started together, each past its startup probe."""
    kubelet = kubelet_for(rendered)
    models = {mv: kubelet.start(model_workload(rendered, *mv)) for mv in MODEL_VERSIONS}
    gateway = kubelet.start(gateway_workload(rendered))
    for pod in [*models.values(), gateway]:
        pod.wait_started()
    return Fleet(kubelet, models, gateway)

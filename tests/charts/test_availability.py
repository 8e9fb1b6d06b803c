"""Day two: a node drain keeps every served model up, and a slow start is no failed rollout.

A voluntary disruption (drain, cluster scale-down) may evict as many pods of a
version as its PodDisruptionBudget allows; a model stays served while some
version with route weight > 0 keeps a pod. A rollout fails (ProgressDeadline
Exceeded, `kubectl rollout status` exits 1) when a new pod is not available
within progressDeadlineSeconds, so that deadline must cover the image pull and
the whole startup budget.
"""

from __future__ import annotations

import pytest
import yaml

from tests.charts.helm import Helm, Manifest, RenderScenario, by_kind
from tests.charts.pods import is_test_hook, pod_specs
from tests.charts.scenarios import new_model

SERVING_SCENARIOS = ["defaults", "canary-with-shadow", "monitoring-crds", "several-models", "fourth-model"]  # fmt: skip


def weights(manifests: list[Manifest]) -> dict[str, dict[str, int]]:
    routes = by_kind(manifests, "ConfigMap")["modelfleet-gateway-routes"]["data"]["routes.yaml"]
    return {
        model: {version: v["weight"] for version, v in route["versions"].items()}
        for model, route in yaml.safe_load(routes)["models"].items()
    }


def pods_left_by_a_drain(manifests: list[Manifest], name: str) -> int:
    """Fewest pods of one version (HPA floor or fixed replicas) minus what its PDB lets go."""
    hpa = by_kind(manifests, "HorizontalPodAutoscaler").get(name)
    floor = (
        hpa["spec"]["minReplicas"]
        if hpa
        else by_kind(manifests, "Deployment")[name]["spec"]["replicas"]
    )
    pdb = by_kind(manifests, "PodDisruptionBudget").get(name)
    return floor - pdb["spec"]["maxUnavailable"] if pdb else 0


@pytest.mark.parametrize("scenario", SERVING_SCENARIOS)
def test_a_drain_leaves_every_served_model_a_pod_of_a_weighted_version(
    render_scenario: RenderScenario, scenario: str
) -> None:
    manifests = render_scenario(scenario)
    prefix = "prod-" if scenario == "several-models" else ""
    for model, versions in weights(manifests).items():
        left = {
            v: pods_left_by_a_drain(manifests, f"{prefix}{model}-{v}")
            for v, w in versions.items()
            if w > 0
        }
        assert max(left.values()) >= 1, (model, left)


def test_a_models_only_version_keeps_a_pod_through_a_drain_without_autoscaling(
    helm: Helm,
) -> None:
    manifests = helm.template(values={"modelDefaults": {"autoscaling": {"enabled": False}}})
    assert pods_left_by_a_drain(manifests, "digits-v1") >= 1
    assert pods_left_by_a_drain(manifests, "minilm-v1") >= 1


def deadlines(manifests: list[Manifest]) -> dict[str, tuple[int, int]]:
    """Deployment -> (progressDeadlineSeconds, seconds its startup probe allows)."""
    found = {}
    for manifest, spec in pod_specs(manifests):
        if is_test_hook(manifest):
            continue
        probe = spec["containers"][0]["startupProbe"]
        startup = probe["periodSeconds"] * probe["failureThreshold"]
        found[manifest["metadata"]["name"]] = (manifest["spec"]["progressDeadlineSeconds"], startup)
    return found


@pytest.mark.parametrize("scenario", SERVING_SCENARIOS)
def test_the_rollout_deadline_covers_the_image_pull_and_the_whole_startup_budget(
    render_scenario: RenderScenario, scenario: str
) -> None:
    pull = 300  # modelDefaults.imagePullSeconds and the gateway's
    for name, (deadline, startup) in deadlines(render_scenario(scenario)).items():
        assert deadline >= startup + pull, name


def test_the_slowest_start_the_schema_allows_still_rolls_out(helm: Helm) -> None:
    """minilm's 900 s, and the schema's 7,200 s with a 20-minute image pull."""
    slowest = new_model("huge", startupBudgetSeconds=7200, imagePullSeconds=1200)
    found = deadlines(helm.template(values={"models": {"huge": slowest}}))
    assert found["minilm-v1"][0] >= 900 + 300
    deadline, startup = found["huge-v1"]
    assert startup >= 7200 and deadline >= startup + 1200

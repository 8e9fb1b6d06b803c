"""What `helm upgrade` would change between two revisions of the values.

Rendering revision N and N+1 and diffing the objects shows what a rollout
touches: a weight change must touch only the gateway's routes ConfigMap (which
the gateway hot-reloads), adding or removing a version only that version's
objects and the routes, a new chart version no pod template at all, and no
upgrade may ever change a Deployment selector (Kubernetes refuses that).
Rolling back renders revision N exactly again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.charts.helm import CHARTS, Helm, Manifest
from tests.charts.pods import is_test_hook
from tests.charts.scenarios import image

ROUTES = ("ConfigMap", "modelfleet-gateway-routes")
Key = tuple[str, str]


def objects(manifests: list[Manifest]) -> dict[Key, Manifest]:
    """What `helm upgrade` applies: every object except `helm test` hooks, which
    are created only by `helm test` (the fleet test lists every version)."""
    return {(m["kind"], m["metadata"]["name"]): m for m in manifests if not is_test_hook(m)}


def diff(before: list[Manifest], after: list[Manifest]) -> dict[str, set[Key]]:
    old, new = objects(before), objects(after)
    return {
        "added": new.keys() - old.keys(),
        "removed": old.keys() - new.keys(),
        "changed": {k for k in old.keys() & new.keys() if old[k] != new[k]},
    }


def iris_versions(**versions: dict[str, Any] | None) -> dict[str, Any]:
    return {"models": {"iris": {"versions": versions}}}


def version_objects(name: str) -> set[Key]:
    kinds = ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget")
    return {(kind, name) for kind in kinds}


def assert_selectors_kept(before: list[Manifest], after: list[Manifest]) -> None:
    old, new = objects(before), objects(after)
    for key in old.keys() & new.keys():
        if key[0] == "Deployment":
            assert old[key]["spec"]["selector"] == new[key]["spec"]["selector"], key


def test_a_weight_change_touches_only_the_routes_configmap(helm: Helm) -> None:
    before = helm.template()
    after = helm.template(values=iris_versions(v1={"weight": 75}, v2={"weight": 25}))
    assert diff(before, after) == {"added": set(), "removed": set(), "changed": {ROUTES}}
    assert_selectors_kept(before, after)


def test_adding_a_version_adds_its_objects_and_changes_only_the_routes(helm: Helm) -> None:
    before = helm.template()
    v3 = {"weight": 0, "image": image("iris", "0.3.0")}
    after = helm.template(values=iris_versions(v3=v3))
    assert diff(before, after) == {
        "added": version_objects("iris-v3"),
        "removed": set(),
        "changed": {ROUTES},
    }
    assert_selectors_kept(before, after)


def test_removing_a_version_removes_its_objects_and_changes_only_the_routes(helm: Helm) -> None:
    before = helm.template()
    # null deletes a key of the chart's values file, as deleting the lines would.
    after = helm.template(values=iris_versions(v1={"weight": 100}, v2=None))
    assert diff(before, after) == {
        "added": set(),
        "removed": version_objects("iris-v2"),
        "changed": {ROUTES},
    }


def test_a_new_image_for_one_version_rolls_only_that_deployment(helm: Helm) -> None:
    """Its objects' `app.kubernetes.io/version` follows the image; only its pods roll."""
    before = helm.template()
    after = helm.template(values=iris_versions(v2={"image": image("iris", "0.2.1")}))
    assert diff(before, after) == {
        "added": set(),
        "removed": set(),
        "changed": version_objects("iris-v2"),
    }
    assert_selectors_kept(before, after)
    old, new = objects(before), objects(after)
    for key in version_objects("iris-v2") - {("Deployment", "iris-v2")}:
        assert old[key]["spec"] == new[key]["spec"], key
    assert (
        new[("Deployment", "iris-v2")]["spec"]["template"]["metadata"]["labels"][
            "app.kubernetes.io/version"
        ]
        == "0.2.1"
    )


def bumped_charts(helm: Helm, workdir: Path, version: str) -> Helm:
    """The same charts released as `version` (chart and app version), dependencies rebuilt."""
    bumped = Helm(helm.binary, workdir / "charts")
    shutil.copytree(
        helm.charts, bumped.charts, ignore=shutil.ignore_patterns("charts", "Chart.lock")
    )
    for name in CHARTS:  # the library first: each chart after its dependencies
        path = bumped.chart(name) / "Chart.yaml"
        meta = yaml.safe_load(path.read_text())
        meta["version"] = version
        if "appVersion" in meta:
            meta["appVersion"] = version
        for dependency in meta.get("dependencies", []):
            dependency["version"] = version
        path.write_text(yaml.safe_dump(meta))
        bumped.update_dependencies(name)
    return bumped


def test_a_chart_version_bump_with_the_same_values_rolls_no_pod(helm: Helm, tmp_path: Path) -> None:
    """Chart metadata stays out of pod templates: upgrading the chart alone restarts
    nothing, where every model would cold-load at once if a label changed."""
    before = objects(helm.template())
    after = objects(bumped_charts(helm, tmp_path, "0.2.0").template())
    assert before.keys() == after.keys()
    deployments = [key for key in before if key[0] == "Deployment"]
    assert len(deployments) >= 5
    for key in deployments:
        assert before[key]["spec"] == after[key]["spec"], key
    assert (
        after[("Deployment", "iris-v1")]["metadata"]["labels"]["helm.sh/chart"]
        == "modelfleet-0.2.0"
    )


def test_promoting_then_rolling_back_restores_revision_n_exactly(helm: Helm) -> None:
    revision_n = helm.template()
    promoted = helm.template(values=iris_versions(v1={"weight": 0}, v2={"weight": 100}))
    rolled_back = helm.template()
    assert diff(revision_n, promoted)["changed"] == {ROUTES}
    assert rolled_back == revision_n

"""Every object the umbrella chart renders is valid Kubernetes, strictly.

Rendered for each scenario and validated against the OpenAPI schemas of the
oldest (1.30) and newest (1.37) Kubernetes we support, with unknown fields
rejected. A kind without a schema fails, except for CRD groups, which are
checked by their own tests (promtool for the PrometheusRule).
"""

from __future__ import annotations

import pytest

from tests.charts.helm import MONITORING_APIS, Helm, Manifest, RenderScenario
from tests.charts.scenarios import SCENARIOS

kubernetes_validate = pytest.importorskip("kubernetes_validate")

KUBERNETES_VERSIONS = ("1.30", "1.37")
CRD_GROUPS = {"monitoring.coreos.com", "gateway.networking.k8s.io", "keda.sh"}


def problems(manifest: Manifest, version: str) -> list[str]:
    where = f"{manifest['kind']}/{manifest['metadata']['name']}"
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        group = manifest["apiVersion"].rpartition("/")[0]
        return [] if group in CRD_GROUPS else [f"{where}: no schema for {manifest['apiVersion']}"]
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{where}: {path}: {exc.message.splitlines()[0]}"]
    return []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_umbrella_renders_strictly_valid_objects(
    render_scenario: RenderScenario, scenario: str, version: str
) -> None:
    manifests = render_scenario(scenario)
    assert manifests, "nothing rendered"
    found = [p for m in manifests for p in problems(m, version)]
    assert found == []


@pytest.mark.parametrize("chart", ["model", "gateway"])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_standalone_charts_render_strictly_valid_objects(
    helm: Helm, chart: str, version: str
) -> None:
    manifests = helm.template(chart, api_versions=MONITORING_APIS)
    found = [p for m in manifests for p in problems(m, version)]
    assert manifests and found == []


def test_a_misspelled_field_is_caught(render_scenario: RenderScenario) -> None:
    """Guards the guard: strict validation really rejects unknown fields."""
    service = next(m for m in render_scenario("defaults") if m["kind"] == "Service")
    service["spec"]["portz"] = service["spec"].pop("ports")
    assert problems(service, "1.30") != []

"""Every object the charts render is valid Kubernetes, strictly.

Rendered for each scenario and validated against the OpenAPI schemas of the
oldest (1.30) and newest (1.37) Kubernetes we support, with unknown fields
rejected. A kind without a schema fails, except for CRD groups.
"""

from __future__ import annotations

import pytest

from tests.charts.helm import MONITORING_APIS, Helm, RenderScenario
from tests.charts.kube import KUBERNETES_VERSIONS, problems
from tests.charts.scenarios import SCENARIOS


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_umbrella_renders_strictly_valid_objects(
    render_scenario: RenderScenario, scenario: str, version: str
) -> None:
    manifests = render_scenario(scenario)
    assert manifests, "nothing rendered"
    assert [p for m in manifests for p in problems(m, version)] == []


@pytest.mark.parametrize("chart", ["model", "gateway"])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_standalone_charts_render_strictly_valid_objects(
    helm: Helm, chart: str, version: str
) -> None:
    manifests = helm.template(chart, api_versions=MONITORING_APIS)
    assert manifests and [p for m in manifests for p in problems(m, version)] == []


def test_a_misspelled_field_is_caught(render_scenario: RenderScenario) -> None:
    """Guards the guard: strict validation really rejects unknown fields."""
    service = next(m for m in render_scenario("defaults") if m["kind"] == "Service")
    service["spec"]["portz"] = service["spec"].pop("ports")
    assert problems(service, "1.30") != []


def test_a_kind_without_a_schema_fails_unless_it_is_a_crd() -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert problems(unknown, "1.37") == ["Widget/w: no schema for example.com/v1"]
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
    }
    assert problems(monitor, "1.37") == []

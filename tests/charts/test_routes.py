"""The routes ConfigMap the umbrella chart renders is the gateway's routes.yaml.

The gateway itself must accept it (its own parser, the one that guards hot
reloads), with one route per listed version at the version's in-cluster
Service URL and the values file's weights, sticky header, shadow, timeouts,
retries and guard.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gateway.routes import parse_routes
from tests.charts.helm import RenderScenario, by_kind
from tests.charts.scenarios import SCENARIOS

ROUTES = "modelfleet-gateway-routes"


def rendered_routes(manifests: list[dict[str, Any]]) -> str:
    return by_kind(manifests, "ConfigMap")[ROUTES]["data"]["routes.yaml"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_gateway_accepts_the_rendered_routes(
    render_scenario: RenderScenario, scenario: str
) -> None:
    table = parse_routes(rendered_routes(render_scenario(scenario)))
    assert table.models


def test_routes_point_each_version_at_its_service_with_its_weight(
    render_scenario: RenderScenario,
) -> None:
    iris = parse_routes(rendered_routes(render_scenario("canary-with-shadow"))).models["iris"]
    assert {v: (r.base_url, r.weight) for v, r in iris.versions.items()} == {
        "v1": ("http://iris-v1:8080", 90),
        "v2": ("http://iris-v2:8080", 10),
        "v3": ("http://iris-v3:8080", 0),
    }
    assert iris.shadow is not None and (iris.shadow.version, iris.shadow.percent) == ("v3", 100)
    assert (iris.stickyHeader, iris.timeoutSeconds, iris.retries) == ("X-User-Id", 5, 1)
    assert iris.guard.enabled and iris.guard.maxErrorRate == 0.2


def test_a_name_prefix_reaches_the_route_urls(render_scenario: RenderScenario) -> None:
    routes = yaml.safe_load(rendered_routes(render_scenario("several-models")))["models"]
    assert routes["digits"]["versions"]["v1"]["url"] == "http://prod-digits-v1:8080"
    assert "shadow" not in routes["iris"] and "stickyHeader" not in routes["digits"]

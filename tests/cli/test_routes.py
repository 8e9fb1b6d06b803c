"""routes_from_values: the values file -> routes.yaml, the same table the chart renders."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from gateway.routes import RouteTable
from services.cli.fleet.routes import routes_from_values
from tests.charts.helm import ROOT, Helm, build_charts, by_kind
from tests.charts.scenarios import image
from tests.tools import require_tool

VALUES = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())
CLUSTER_URL = "http://{prefix}{model}-{version}:8080"
# A canary with a shadow and no sticky header, under a name prefix.
OVERLAY: dict[str, Any] = {
    "namePrefix": "staging-",
    "models": {
        "iris": {
            "stickyHeader": "",
            "shadow": {"version": "v3", "percent": 50},
            "versions": {
                "v1": {"weight": 75},
                "v2": {"weight": 25},
                "v3": {"weight": 0, "image": image("iris", "0.3.0")},
            },
        }
    },
}


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of `-f` values over chart defaults (maps merge, the rest replaces)."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def test_local_routes_use_each_versions_port_and_the_values_weights() -> None:
    ports = {("iris", "v1"): 8101, ("iris", "v2"): 8102}
    iris = routes_from_values(VALUES, "http://127.0.0.1:{port}", ports=ports)["models"]["iris"]
    assert iris["versions"] == {
        "v1": {"url": "http://127.0.0.1:8101", "weight": 90},
        "v2": {"url": "http://127.0.0.1:8102", "weight": 10},
    }
    assert (iris["stickyHeader"], iris["timeoutSeconds"], iris["retries"]) == ("X-User-Id", 5, 1)
    assert iris["guard"] == VALUES["models"]["iris"]["guard"]


def test_only_routing_keys_are_copied_and_an_empty_shadow_is_left_out() -> None:
    iris = routes_from_values(VALUES, CLUSTER_URL, prefix="")["models"]["iris"]
    assert set(iris) == {"versions", "timeoutSeconds", "retries", "guard", "stickyHeader"}


def test_weights_that_do_not_sum_to_100_are_refused_like_the_chart_does() -> None:
    values = merged(VALUES, {"models": {"iris": {"versions": {"v2": {"weight": 25}}}}})
    with pytest.raises(ValueError, match=r"iris: weights must sum to 100, they sum to 115"):
        routes_from_values(values, CLUSTER_URL, prefix="")


def test_the_generated_table_is_one_the_gateway_accepts() -> None:
    values = merged(VALUES, OVERLAY)
    table = RouteTable.model_validate(routes_from_values(values, CLUSTER_URL, prefix="mf-"))
    iris = table.models["iris"]
    assert iris.shadow is not None and iris.shadow.version == "v3"
    assert iris.versions["v3"].base_url == "http://mf-iris-v3:8080"
    assert iris.stickyHeader is None


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    binary = require_tool("helm")
    return Helm(binary, build_charts(binary, tmp_path_factory.mktemp("helm")))


def rendered_routes(helm: Helm, values: dict[str, Any] | None) -> dict[str, Any]:
    configmaps = by_kind(helm.template(values=values), "ConfigMap")
    (routes,) = [cm for name, cm in configmaps.items() if name.endswith("gateway-routes")]
    return dict(yaml.safe_load(routes["data"]["routes.yaml"]))


@pytest.mark.parametrize("overlay", [None, OVERLAY], ids=["defaults", "shadow-and-prefix"])
def test_the_chart_renders_the_same_routes_as_make_run(
    helm: Helm, overlay: dict[str, Any] | None
) -> None:
    values = merged(VALUES, overlay or {})
    expected = routes_from_values(values, CLUSTER_URL, prefix=values["namePrefix"])
    assert rendered_routes(helm, overlay) == expected

"""Static checks of the Grafana dashboards the gateway chart ships."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.dashboards import DASHBOARDS, render
from tests.observability.panels import DASHBOARD_DIR, dashboards, panel_queries
from tests.tools import require_tool

BOARDS = dashboards()
# DESIGN.md's metric contract (histograms as their series), the runtime's
# readiness gauge, and the standard cAdvisor / kube-state-metrics series.
HISTOGRAMS = (
    "modelfleet_request_duration_seconds",
    "modelfleet_inference_duration_seconds",
    "modelfleet_queue_wait_seconds",
    "modelfleet_batch_size",
    "modelfleet_gateway_request_duration_seconds",
)
ALLOWED_METRICS = {
    *(f"{name}_{suffix}" for name in HISTOGRAMS for suffix in ("bucket", "sum", "count")),
    "modelfleet_requests_total",
    "modelfleet_inflight_requests",
    "modelfleet_model_load_seconds",
    "modelfleet_model_info",
    "modelfleet_model_ready",
    "modelfleet_gateway_requests_total",
    "modelfleet_gateway_upstream_errors_total",
    "modelfleet_gateway_retries_total",
    "modelfleet_gateway_route_weight",
    "modelfleet_gateway_shadow_total",
    "modelfleet_gateway_canary_aborted",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits",
}


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_the_four_dashboards_are_committed() -> None:
    assert (
        set(BOARDS)
        == set(DASHBOARDS)
        == {
            "fleet-overview",
            "canary-vs-stable",
            "inside-a-model",
            "gateway",
        }
    )


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_json_matches_its_generator(name: str) -> None:
    committed = (DASHBOARD_DIR / f"{name}.json").read_text()
    assert committed == render(name), "run `python -m services.cli.dashboards`"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panel_ids_are_unique(name: str) -> None:
    ids = [panel["id"] for panel in BOARDS[name]["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_uids_are_unique() -> None:
    uids = [board["uid"] for board in BOARDS.values()]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_datasource_is_the_datasource_variable(name: str) -> None:
    refs = [value for key, value in walk(BOARDS[name]) if key == "datasource"]
    assert refs, "panels must name a datasource"
    assert all(ref == {"type": "prometheus", "uid": "${datasource}"} for ref in refs), refs


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_required_variables_are_present(name: str) -> None:
    variables = {var["name"]: var for var in BOARDS[name]["templating"]["list"]}
    assert set(variables) == {"datasource", "namespace", "fleet", "model", "version"}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for label in ("namespace", "fleet", "model", "version"):
        assert variables[label]["type"] == "query"
        assert variables[label]["query"].startswith("label_values(")
        assert variables[label]["query"].endswith(f", {label})")
    # "All" must be a regex that also matches series without a namespace or fleet label.
    assert variables["namespace"]["allValue"] == variables["fleet"]["allValue"] == ".*"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_has_a_query(name: str) -> None:
    for panel in BOARDS[name]["panels"]:
        assert panel["targets"], panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_do_not_overlap(name: str) -> None:
    cells: set[tuple[int, int]] = set()
    for panel in BOARDS[name]["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not cells & area, panel["title"]
        cells |= area


def test_queries_use_only_contract_metrics() -> None:
    used = {
        name
        for query in panel_queries()
        for name in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", query.expr)
    }
    assert used <= ALLOWED_METRICS, used - ALLOWED_METRICS


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses rule expressions offline: wrap each query in a recording rule.
    promtool = require_tool("promtool")
    rules = [{"record": f"panel:{i}", "expr": q.promql()} for i, q in enumerate(panel_queries())]
    path = tmp_path / "panels.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

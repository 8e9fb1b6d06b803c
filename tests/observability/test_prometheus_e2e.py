"""Every dashboard panel and every rule, proven against a real Prometheus.

`modelfleet up --observe` (what `make observe` runs) serves every model in the
registry plus a local Prometheus scraping each process every second. The test
drives the traffic the panels are about: every model, the iris canary and a
shadow copy, pinned callers, bad requests, and a retried upstream failure (a
version whose service is down). Then every panel query, with Grafana's "All"
substituted for the variables, must return at least one series.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.panels import PanelQuery, dashboards, panel_queries
from tests.processes import (
    Server,
    all_ready,
    free_port,
    launch_stack,
    stop_stack,
    wait_until,
)
from tests.tools import require_tool

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "gateway" / "files" / "rules" / "modelfleet-rules.yaml"
WINDOW = "1m"  # $__rate_interval: the whole run fits in it
# Panels that read cAdvisor / kube-state-metrics series, which only a cluster has.
KUBERNETES_ONLY = {
    ("inside-a-model", "CPU per pod"): "cAdvisor + kube-state-metrics series (cluster only)",
    ("inside-a-model", "Memory per pod"): "cAdvisor + kube-state-metrics series (cluster only)",
}
BAD_REQUEST = {"no_such_field": 1}


@dataclass
class Observed:
    stack: Server
    prometheus: str
    models: list[str]

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": promql}, timeout=10)
        assert answer.status_code == 200, f"{promql}\n{answer.text}"
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def holds(self, promql: str) -> Callable[[], bool]:
        """A check for `wait_until`: does `promql` return any series yet?"""
        return lambda: bool(self.query(promql))


def fleet_values(registry: Path) -> dict[str, Any]:
    """The repo's values plus every registry model it does not list; iris shadows to v2."""
    values = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())
    for model in sorted(
        p.name for p in registry.iterdir() if (p / "v1" / "manifest.json").is_file()
    ):
        values["models"].setdefault(model, {"workers": 1, "versions": {"v1": {"weight": 100}}})
    values["models"]["iris"]["shadow"] = {"version": "v2", "percent": 100}
    return values


def add_dead_version(routes_file: Path) -> None:
    """Route 10 % of iris to a v3 whose service is down: connect errors, retried elsewhere."""
    routes = yaml.safe_load(routes_file.read_text())
    iris = routes["models"]["iris"]["versions"]
    iris["v1"]["weight"] -= 10
    iris["v3"] = {"url": f"http://127.0.0.1:{free_port()}", "weight": 10}
    scratch = routes_file.with_name("routes.edit")
    scratch.write_text(yaml.safe_dump(routes, sort_keys=False))
    os.replace(scratch, routes_file)


def listed_versions(url: str) -> set[str]:
    models = httpx.get(f"{url}/models", timeout=5).json()["models"]
    return {v["version"] for m in models if m["name"] == "iris" for v in m["versions"]}


def predict_request(service_url: str, model: str) -> dict[str, Any]:
    """httpx arguments of a valid predict call, from the input schema's first example.

    Image models (an example of `pixels`) take an uploaded picture instead of JSON;
    picture forms (styles) take their example's fields as text parts, pictures as data URLs.
    """
    metadata = httpx.get(f"{service_url}/v1/models/{model}", timeout=5).json()
    instance = metadata["input_schema"]["examples"][0]
    if metadata["operations"][0]["request"] == "multipart" and "pixels" not in instance:
        text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in instance.items()}
        return {"files": {k: (None, v) for k, v in text.items()}}
    if "pixels" not in instance:
        return {"json": instance}
    side = math.isqrt(len(instance["pixels"]))
    ink = bytes(round(p * 255 / 16) for p in instance["pixels"])
    picture = io.BytesIO()
    Image.frombytes("L", (side, side), ink).resize((64, 64)).save(picture, format="PNG")
    return {"files": {"file": ("digit.png", picture.getvalue(), "image/png")}}


def statuses(client: httpx.Client, path: str, count: int, **request: Any) -> set[int]:
    return {client.post(path, **request).status_code for _ in range(count)}


def drive_traffic(gateway: str) -> None:
    """Every model, good and bad requests; iris also pinned (and shadowed by the routes)."""
    listing = httpx.get(f"{gateway}/models", timeout=5).json()["models"]
    with httpx.Client(base_url=gateway, timeout=30, trust_env=False) as client:
        for entry in listing:
            model, path = entry["name"], f"/models/{entry['name']}/predict"
            served_by = next(v["url"] for v in entry["versions"] if v["ready"])
            request = predict_request(served_by, model)
            assert statuses(client, path, 200 if model == "iris" else 30, **request) == {200}
            # 422 from a JSON model, 415 from an image model: caller errors either way.
            assert statuses(client, path, 5, json=BAD_REQUEST) <= {415, 422}
            if model == "iris":
                pin = {"X-Model-Version": "v2"}
                assert statuses(client, path, 10, headers=pin, **request) == {200}


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Iterator[Observed]:
    require_tool("prometheus")
    folder = tmp_path_factory.mktemp("observed")
    values = folder / "values.yaml"
    values.write_text(yaml.safe_dump(fleet_values(registry_root)))
    prom_port = free_port()
    path = f"{Path(require_tool('prometheus')).parent}:{os.environ['PATH']}"
    stack, marker = launch_stack(
        folder, values, registry_root, "--observe", "--prometheus-port", str(prom_port),
        env={"PATH": path},
    )  # fmt: skip
    try:
        wait_until(lambda: "modelfleet is up" in stack.output(), 240, "the stack", step=0.5)
        wait_until(lambda: all_ready(stack.url), 30, "every version ready")
        add_dead_version(folder / "state" / "routes.yaml")
        wait_until(lambda: "v3" in listed_versions(stack.url), 15, "the gateway to route to v3")
        drive_traffic(stack.url)
        running = Observed(stack, f"http://127.0.0.1:{prom_port}", [])
        wait_for_scrapes(running)  # before any query: the first scrapes land seconds later
        running.models = sorted(
            {s["metric"]["model"] for s in running.query("modelfleet_model_info")}
        )
        yield running
    finally:
        stop_stack(stack, marker, timeout=40)


def exported_total(urls: list[str], metric: str) -> float:
    """`metric` summed over the /metrics pages of `urls`, as the processes count it now."""
    return sum(
        sample.value
        for url in urls
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text)
        for sample in family.samples
        if sample.name == metric
    )


def wait_for_scrapes(observed: Observed) -> None:
    """Until Prometheus holds the final counts of every process and evaluated the rules."""
    listing = httpx.get(f"{observed.stack.url}/models", timeout=5).json()["models"]
    services = [v["url"] for m in listing for v in m["versions"] if v["ready"]]
    for urls, metric in (([observed.stack.url], "modelfleet_gateway_requests_total"),
                         (services, "modelfleet_requests_total")):  # fmt: skip
        expected = exported_total(urls, metric)
        scraped = f"sum({metric}) == {expected}"
        wait_until(observed.holds(scraped), 30, scraped, step=0.5)
    rule = "model_version:modelfleet_gateway_upstream_errors:ratio_rate5m"
    wait_until(observed.holds(rule), 15, "the recording rules", step=0.5)


def test_every_model_in_the_registry_is_served_and_scraped(
    observed: Observed, registry_root: Path
) -> None:
    expected = sorted(fleet_values(registry_root)["models"])
    assert observed.models == expected
    jobs = {s["metric"]["job"] for s in observed.query("up == 1")}
    assert jobs == {"modelfleet-gateway", "modelfleet-model"}


QUERIES = [q for q in panel_queries() if (q.dashboard, q.panel) not in KUBERNETES_ONLY]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.dashboard}/{q.panel}/{q.ref}")
def test_panel_query_returns_data(observed: Observed, query: PanelQuery) -> None:
    assert observed.query(query.promql(WINDOW)), query.promql(WINDOW)


def test_kubernetes_only_panels_read_only_cluster_series() -> None:
    panels = {(q.dashboard, q.panel): q for q in panel_queries()}
    assert set(KUBERNETES_ONLY) <= set(panels)
    for key in KUBERNETES_ONLY:
        for query in (q for q in panel_queries() if (q.dashboard, q.panel) == key):
            assert "container_" in query.expr or "kube_" in query.expr, query


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_model_and_version_variables_list_the_running_versions(
    observed: Observed, name: str
) -> None:
    variables = {v["name"]: v["query"] for v in dashboards()[name]["templating"]["list"]}
    for label in ("model", "version"):
        series = variables[label].removeprefix("label_values(").rsplit(",", 1)[0]
        match = re.sub(r"\$(namespace|fleet|model)\b", ".*", series)
        answer = httpx.get(
            f"{observed.prometheus}/api/v1/label/{label}/values",
            params={"match[]": match},
            timeout=5,
        ).json()
        assert answer["data"], f"{name}: {variables[label]}"


def test_every_recording_rule_produces_series(observed: Observed) -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    records = [rule["record"] for group in groups for rule in group["rules"] if "record" in rule]
    assert [r for r in records if not observed.query(r)] == []


def test_every_rule_evaluates_without_error(observed: Observed) -> None:
    answer = httpx.get(f"{observed.prometheus}/api/v1/rules", timeout=5).json()
    rules = [rule for group in answer["data"]["groups"] for rule in group["rules"]]
    assert len(rules) == sum(len(g["rules"]) for g in yaml.safe_load(RULES.read_text())["groups"])
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []

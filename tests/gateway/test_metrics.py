"""Gateway metrics: the DESIGN.md names and labels, valid for promtool."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import wait_until
from tests.tools import require_tool
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes


@pytest.fixture(scope="module")
def scraped(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> str:
    """/metrics after pinned, failed-over and shadowed traffic."""
    shadow = {"version": "v3", "percent": 100}
    gateway: Gateway = start_gateway(
        model_routes(upstreams, {"v1": 50, "v2": 50, "v3": 0}, shadow=shadow)
    )
    url = gateway.url + "/models/iris/predict"
    send_many(Load(url, 20, {}, headers=lambda _: {"X-Model-Version": "v1"}))
    upstreams["v2"].control(status=503)
    send_many(Load(url, 40, {}, concurrency=4))

    def shadowed() -> bool:
        return "modelfleet_gateway_shadow_total{" in httpx.get(f"{gateway.url}/metrics").text

    wait_until(shadowed, 10, "shadow results")
    return httpx.get(f"{gateway.url}/metrics").text


def samples(text: str) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample.labels)
    return found


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("modelfleet_gateway_requests_total", {"model", "version", "variant", "code"}),
        ("modelfleet_gateway_request_duration_seconds_bucket", {"model", "version", "variant", "le"}),
        ("modelfleet_gateway_upstream_errors_total", {"model", "version", "variant", "reason"}),
        ("modelfleet_gateway_retries_total", {"model", "version", "variant"}),
        ("modelfleet_gateway_route_weight", {"model", "version", "variant"}),
        ("modelfleet_gateway_shadow_total", {"model", "version", "result"}),
        ("modelfleet_gateway_canary_aborted", {"model", "version"}),
    ],
)  # fmt: skip
def test_every_design_metric_is_exported_with_its_labels(
    scraped: str, name: str, labels: set[str]
) -> None:
    assert name in samples(scraped)
    assert {frozenset(s) for s in samples(scraped)[name]} == {frozenset(labels)}


def test_variants_tell_pinned_stable_canary_and_shadow_apart(scraped: str) -> None:
    found = samples(scraped)
    routed = {(s["version"], s["variant"]) for s in found["modelfleet_gateway_requests_total"]}
    assert {("v1", "pinned"), ("v1", "stable")} <= routed
    weights = {(s["version"], s["variant"]) for s in found["modelfleet_gateway_route_weight"]}
    assert weights == {("v1", "stable"), ("v2", "canary"), ("v3", "shadow")}


def test_failed_over_calls_are_counted_by_reason(scraped: str) -> None:
    errors = samples(scraped)["modelfleet_gateway_upstream_errors_total"]
    assert {(s["version"], s["reason"]) for s in errors} == {("v2", "http_503")}


def test_promtool_accepts_the_exposition(scraped: str) -> None:
    promtool = require_tool("promtool")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=scraped, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def inflight(gateway_url: str) -> float:
    families = text_string_to_metric_families(httpx.get(f"{gateway_url}/metrics").text)
    family = next(f for f in families if f.name == "modelfleet_gateway_inflight_requests")
    return family.samples[0].value


def test_requests_in_flight_are_exported_for_the_gateway_hpa(
    start_gateway: GatewayFactory, upstreams: dict[str, Upstream]
) -> None:
    """The gauge the gateway chart's HPA scales on counts a routed request while it waits."""
    gateway = start_gateway(model_routes(upstreams, {"v1": 100}))
    assert inflight(gateway.url) == 0
    upstreams["v1"].control(delay=3)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(httpx.post, f"{gateway.url}/models/iris/predict", json={}, timeout=30)
        wait_until(lambda: inflight(gateway.url) == 1, 10, "one request in flight")
        assert answer.result().status_code == 200
    assert inflight(gateway.url) == 0

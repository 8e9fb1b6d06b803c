"""Gateway metrics: the DESIGN.md names and labels, valid for promtool."""

from __future__ import annotations

import subprocess

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

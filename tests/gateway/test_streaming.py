"""Streamed and binary answers through a real gateway: relayed as they arrive, never buffered.

The upstream stand-in sends NDJSON lines some time apart and counts each line it
sent and each client that left before the end, so the checks are about what had
happened when, not about how fast this machine is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.routing import pick_sticky
from tests.processes import wait_until
from tests.scrape import samples, value

from .harness import Gateway, GatewayFactory, Upstream, model_routes
from .upstream import PICTURE

STREAM = "/models/iris/stream"


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 100}))


@pytest.fixture
def routes(gateway: Gateway, upstreams: dict[str, Upstream]) -> Iterator[Gateway]:
    yield gateway
    gateway.apply_routes(model_routes(upstreams, {"v1": 100}))


def counted(upstream: Upstream, what: str) -> int:
    return upstream.stats().get(what, 0)


def test_each_line_reaches_the_caller_as_soon_as_the_service_sends_it(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    v1 = upstreams["v1"]
    before = counted(v1, "stream lines")
    with http.stream("POST", f"{routes.url}{STREAM}?lines=5&gap=0.5") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert (
            response.headers["x-model-version"] == "v1" and "content-length" not in response.headers
        )
        lines = response.iter_lines()
        first = json.loads(next(lines))
        sent_when_first_arrived = counted(v1, "stream lines") - before
        rest = [json.loads(line) for line in lines]
    assert first == {"index": 0, "version": "v1"} and sent_when_first_arrived < 5
    assert [line["index"] for line in rest] == [1, 2, 3, 4]


def test_a_caller_that_leaves_stops_the_stream_at_the_service(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    v1 = upstreams["v1"]
    lines, cancelled = counted(v1, "stream lines"), counted(v1, "stream cancelled")
    with http.stream("POST", f"{routes.url}{STREAM}?lines=50&gap=0.1") as response:
        next(response.iter_lines())
    wait_until(lambda: counted(v1, "stream cancelled") == cancelled + 1, 10, "the service to stop")
    sent = counted(v1, "stream lines") - lines
    time.sleep(0.5)  # five more gaps: a stream still running would have sent more
    assert counted(v1, "stream lines") - lines == sent < 50


def test_a_stream_is_counted_and_timed_when_it_ends(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    labels = {"model": "iris", "version": "v1", "variant": "stable"}
    before = samples(routes.url)
    with http.stream("POST", f"{routes.url}{STREAM}?lines=4&gap=0.4") as response:
        assert len(list(response.iter_lines())) == 4
    after = samples(routes.url)

    def grew(name: str, **extra: str) -> float:
        return value(after, name, **labels, **extra) - value(before, name, **labels, **extra)

    assert grew("modelfleet_gateway_requests_total", code="200") == 1
    assert grew("modelfleet_gateway_request_duration_seconds_count") == 1
    assert grew("modelfleet_gateway_request_duration_seconds_sum") >= 1.2  # three 0.4 s gaps


def test_the_timeout_bounds_each_gap_not_the_whole_stream(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 100}, timeoutSeconds=1))
    with http.stream("POST", f"{routes.url}{STREAM}?lines=6&gap=0.4") as response:
        assert len(list(response.iter_lines())) == 6  # 2 s in all, each gap under 1 s
    before = samples(routes.url)
    with (
        http.stream("POST", f"{routes.url}{STREAM}?lines=3&gap=2") as response,
        pytest.raises(httpx.TransportError),  # closed or reset mid-body
    ):
        list(response.iter_lines())  # the first line, then a silence the gateway cuts
    errors = "modelfleet_gateway_upstream_errors_total"
    labels = {"model": "iris", "version": "v1", "reason": "timeout"}
    wait_until(
        lambda: value(samples(routes.url), errors, **labels) == value(before, errors, **labels) + 1,
        5,
        "the timeout to be counted",
    )


def test_only_a_failure_before_the_first_byte_is_retried(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    weights = {"v1": 50, "v2": 50}
    routes.apply_routes(model_routes(upstreams, weights, retries=1, stickyHeader="X-User-Id"))
    caller = {
        "X-User-Id": next(f"u{n}" for n in range(100) if pick_sticky(weights, f"u{n}") == "v1")
    }
    v1, v2 = upstreams["v1"], upstreams["v2"]
    v1.control(status=503)
    calls = counted(v1, "POST stream"), counted(v2, "POST stream")
    with http.stream("POST", f"{routes.url}{STREAM}?lines=2&gap=0", headers=caller) as response:
        assert response.headers["x-model-version"] == "v2"
        assert [json.loads(line)["version"] for line in response.iter_lines()] == ["v2", "v2"]
    assert (counted(v1, "POST stream"), counted(v2, "POST stream")) == (calls[0] + 1, calls[1] + 1)
    v1.control()
    with (
        http.stream(
            "POST", f"{routes.url}{STREAM}?lines=5&gap=0.1&cut_after=2", headers=caller
        ) as response,
        pytest.raises(httpx.TransportError),  # closed or reset mid-body
    ):
        list(response.iter_lines())  # two lines, then a stream that must not look complete
    assert (counted(v1, "POST stream"), counted(v2, "POST stream")) == (calls[0] + 2, calls[1] + 1)


def test_binary_answers_pass_through_byte_for_byte(http: httpx.Client, routes: Gateway) -> None:
    response = http.get(f"{routes.url}/models/iris/picture")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == PICTURE

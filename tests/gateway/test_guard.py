"""Canary guard: sliding error-rate window with a minimum request count."""

from __future__ import annotations

import httpx
import pytest

from gateway.guard import CanaryGuard, GuardStatus
from gateway.routes import RouteTable
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def table(enabled: bool = True, window: float = 60, min_requests: int = 20) -> RouteTable:
    guard = {"enabled": enabled, "maxErrorRate": 0.2, "windowSeconds": window,
             "minRequests": min_requests}  # fmt: skip
    versions = {
        "v1": {"url": "http://a:1", "weight": 90},
        "v2": {"url": "http://b:1", "weight": 10},
    }
    return RouteTable.model_validate({"models": {"iris": {"versions": versions, "guard": guard}}})


def make_guard(**kwargs: object) -> tuple[CanaryGuard, list[tuple[str, str, GuardStatus]], Clock]:
    aborted: list[tuple[str, str, GuardStatus]] = []
    clock = Clock()
    guard = CanaryGuard(table(**kwargs), lambda m, v, s: aborted.append((m, v, s)), clock)  # type: ignore[arg-type]
    return guard, aborted, clock


def test_a_canary_answering_errors_is_held_once_the_window_has_enough_requests() -> None:
    guard, aborted, _ = make_guard()
    for _ in range(19):
        guard.record("iris", "v2", failed=True)
    assert guard.held("iris") == frozenset()  # 19 < minRequests
    guard.record("iris", "v2", failed=True)
    assert guard.held("iris") == {"v2"}
    assert [(m, v, s.state, s.requests) for m, v, s in aborted] == [("iris", "v2", "aborted", 20)]


def test_the_abort_is_reported_once_and_holds() -> None:
    guard, aborted, clock = make_guard()
    for _ in range(40):
        guard.record("iris", "v2", failed=True)
    clock.now += 3600
    for _ in range(40):
        guard.record("iris", "v2", failed=False)
    assert len(aborted) == 1
    assert guard.status("iris", "v2").state == "aborted"


def test_a_canary_under_the_error_threshold_is_not_cut_off() -> None:
    guard, aborted, _ = make_guard()
    for i in range(1000):
        guard.record("iris", "v2", failed=i % 10 == 0)  # 10 % errors, threshold 20 %
    assert guard.held("iris") == frozenset() and aborted == []
    assert guard.status("iris", "v2").state == "watching"


def test_errors_older_than_the_window_are_forgotten() -> None:
    guard, aborted, clock = make_guard(window=10)
    for _ in range(15):
        guard.record("iris", "v2", failed=True)
    clock.now += 11
    for _ in range(20):
        guard.record("iris", "v2", failed=False)
    assert aborted == []
    assert guard.status("iris", "v2").requests == 20


def test_the_stable_version_is_never_guarded() -> None:
    guard, aborted, _ = make_guard()
    for _ in range(100):
        guard.record("iris", "v1", failed=True)
    assert aborted == [] and guard.status("iris", "v1").state == "off"


def test_a_disabled_guard_watches_nothing() -> None:
    guard, aborted, _ = make_guard(enabled=False)
    for _ in range(100):
        guard.record("iris", "v2", failed=True)
    assert aborted == [] and guard.status("iris", "v2").state == "off"


# Through real processes: a canary answering 500s behind a real gateway.

GUARD = {"enabled": True, "maxErrorRate": 0.2, "windowSeconds": 60, "minRequests": 10}


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 50, "v2": 50}, guard=GUARD, retries=0))


def canary(gateway: Gateway) -> dict[str, object]:
    versions = gateway.models()["models"][0]["versions"]
    return next(v for v in versions if v["version"] == "v2")


def test_a_canary_answering_500s_is_cut_off_and_shown_as_aborted(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    gateway.apply_routes(model_routes(upstreams, {"v1": 50, "v2": 50}, guard=GUARD, retries=0))
    upstreams["v2"].control(status=500)
    first = send_many(Load(gateway.url + "/models/iris/predict", 100, {}, concurrency=4))
    after = send_many(Load(gateway.url + "/models/iris/predict", 100, {}, concurrency=4))
    assert first.versions()["v2"] >= 10  # the guard needed its minimum first
    assert after.versions() == {"v1": 100} and after.failures == []
    assert canary(gateway)["guard"]["state"] == "aborted"  # type: ignore[index]
    metrics = httpx.get(f"{gateway.url}/metrics").text
    assert 'modelfleet_gateway_canary_aborted{model="iris",version="v2"} 1.0' in metrics
    assert gateway.server.output().count("canary aborted by the guard") == 1


def test_a_pinned_request_still_reaches_an_aborted_canary(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/models/iris/predict", json={},
                          headers={"X-Model-Version": "v2"})  # fmt: skip
    assert response.headers["x-model-version"] == "v2"


def test_a_routes_change_readmits_the_canary(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    gateway.apply_routes(model_routes(upstreams, {"v1": 60, "v2": 40}, guard=GUARD, retries=0))
    assert canary(gateway)["guard"]["state"] == "watching"  # type: ignore[index]


def test_a_healthy_canary_behind_the_gateway_keeps_its_traffic(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    gateway.apply_routes(model_routes(upstreams, {"v1": 50, "v2": 50}, guard=GUARD, retries=0))
    traffic = send_many(Load(gateway.url + "/models/iris/predict", 300, {}, concurrency=4))
    assert traffic.failures == [] and traffic.versions()["v2"] > 100
    assert canary(gateway)["guard"] == {
        "state": "watching", "requests": traffic.versions()["v2"], "errors": 0, "errorRate": 0.0,
    }  # fmt: skip

"""Canary guard: sliding error-rate window with a minimum request count."""

from __future__ import annotations

from gateway.guard import CanaryGuard, GuardStatus
from gateway.routes import RouteTable


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


def test_a_healthy_canary_is_not_cut_off() -> None:
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

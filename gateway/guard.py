"""Canary guard: cut a canary off when its error rate over a sliding window is too high.

One guard belongs to one routes table. An aborted canary stays held until a new
routes table is installed (the file changed), which builds a fresh guard: an
operator decides when a fixed canary comes back, not a timer. A gateway restart
keeps the holds when it has a state file (see `gateway.holds`).
Errors are 5xx answers and failed upstream calls; 4xx are the caller's mistakes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from .routes import ModelRoute, RouteTable

__all__ = ["AbortHandler", "CanaryGuard", "GuardStatus"]

BUCKETS_PER_WINDOW = 30  # time resolution of the window: 2 s for a 60 s window

AbortHandler = Callable[[str, str, "GuardStatus"], None]


@dataclass(frozen=True)
class GuardStatus:
    state: Literal["off", "watching", "aborted"]
    requests: int = 0
    errors: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class _Window:
    """Request and error counts in time buckets covering the last `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._width = seconds / BUCKETS_PER_WINDOW
        self._buckets: deque[list[int]] = deque()  # [bucket index, requests, errors]

    def add(self, now: float, failed: bool) -> None:
        index = math.floor(now / self._width)
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append([index, 0, 0])
        self._buckets[-1][1] += 1
        self._buckets[-1][2] += int(failed)

    def totals(self, now: float) -> tuple[int, int]:
        oldest = math.floor(now / self._width) - BUCKETS_PER_WINDOW
        while self._buckets and self._buckets[0][0] <= oldest:
            self._buckets.popleft()
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)


class CanaryGuard:
    """Watches every canary of the models whose routes enable the guard."""

    def __init__(
        self,
        table: RouteTable,
        on_abort: AbortHandler,
        clock: Callable[[], float] = time.monotonic,
        held: Mapping[tuple[str, str], GuardStatus] | None = None,
    ) -> None:
        """`held`: canaries this table's guard had already aborted (before a restart)."""
        self._routes: dict[str, ModelRoute] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._on_abort = on_abort
        self._clock = clock
        for model, route in table.models.items():
            if route.guard.enabled:
                self._watch(model, route)
        self._aborted = {key: s for key, s in (held or {}).items() if key in self._windows}

    def _watch(self, model: str, route: ModelRoute) -> None:
        self._routes[model] = route
        for version in route.weights:
            if version != route.stable:
                self._windows[(model, version)] = _Window(route.guard.windowSeconds)

    def record(self, model: str, version: str, failed: bool) -> None:
        """Count one answer of `version`; abort it when the window says so."""
        window = self._windows.get((model, version))
        if window is None or (model, version) in self._aborted:
            return
        now = self._clock()
        window.add(now, failed)
        requests, errors = window.totals(now)
        guard = self._routes[model].guard
        if requests >= guard.minRequests and errors / requests > guard.maxErrorRate:
            status = GuardStatus("aborted", requests, errors)
            self._aborted[(model, version)] = status
            self._on_abort(model, version, status)

    def aborted(self) -> dict[tuple[str, str], GuardStatus]:
        """Every held canary, (model, version) -> the counts that aborted it."""
        return dict(self._aborted)

    def held(self, model: str) -> frozenset[str]:
        """Canaries of `model` that get no weighted or sticky traffic."""
        return frozenset(v for m, v in self._aborted if m == model)

    def status(self, model: str, version: str) -> GuardStatus:
        """The window's counts, or the counts that aborted the canary."""
        if (model, version) in self._aborted:
            return self._aborted[(model, version)]
        window = self._windows.get((model, version))
        if window is None:
            return GuardStatus("off")
        return GuardStatus("watching", *window.totals(self._clock()))

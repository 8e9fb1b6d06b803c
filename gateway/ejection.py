"""Passive health checking: eject a service that keeps failing, and readmit it once
a readiness probe says it is back.

Keyed by upstream URL, so the state survives a routes reload that keeps the URL.
An ejected service gets no routed traffic until its cool-down has passed AND its
`/readyz` has answered 200 (`gateway.probe` asks every second): a restarted
service returns as soon as it is ready, and no caller's request is the one that
finds out it is not. Readmitted, it is on probation: one more failure ejects it
again at once; a success clears its count.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Ejector"]


class Ejector:
    def __init__(
        self, failures: int, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or cooldown_seconds <= 0:
            raise ValueError("failures must be >= 1 and cooldown_seconds > 0")
        self._limit = failures
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}  # ejected URL -> end of its cool-down

    def success(self, url: str) -> None:
        self._failures.pop(url, None)
        self._until.pop(url, None)

    def failure(self, url: str) -> bool:
        """Count a failure; True when this one ejects the service."""
        count = self._failures.get(url, 0) + 1
        self._failures[url] = count
        if count < self._limit or self.ejected(url):
            return False
        self._until[url] = self._clock() + self._cooldown
        return True

    def ejected(self, url: str) -> bool:
        return url in self._until

    def remaining(self, url: str) -> float:
        """Seconds of an ejected service's cool-down left; 0 when it is not ejected or
        its cool-down has passed (then it waits for a good probe)."""
        return max(self._until.get(url, 0.0) - self._clock(), 0.0)

    def due(self) -> list[str]:
        """Ejected services whose cool-down has passed: they wait for a good probe."""
        now = self._clock()
        return [url for url, until in self._until.items() if until <= now]

    def readmit(self, url: str) -> None:
        """A probe found it ready: routed traffic again, on probation."""
        self._until.pop(url, None)

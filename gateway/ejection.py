"""Passive health checking: eject a service that keeps failing, for a cool-down.

Keyed by upstream URL, so the state survives a routes reload that keeps the URL.
After the cool-down the next request tries the service again; one more failure
ejects it again at once (its failure count is only reset by a success).
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
        self._until: dict[str, float] = {}

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
        return self.remaining(url) > 0

    def remaining(self, url: str) -> float:
        """Seconds until an ejected service is tried again; 0 when it is not ejected."""
        return max(self._until.get(url, 0.0) - self._clock(), 0.0)

"""Concurrent HTTP traffic for tests: many requests, every answer recorded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Answer", "Load", "Traffic", "send_many", "split"]

Headers = Callable[[int], dict[str, str]]


@dataclass(frozen=True)
class Answer:
    status: int
    version: str | None
    at: float  # seconds since the run started
    error: str | None = None


@dataclass
class Traffic:
    """Every answer of one run; `started` (monotonic) is the zero of `Answer.at`."""

    answers: list[Answer] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        """This moment on the answers' clock, to mark events during a run."""
        return time.monotonic() - self.started

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.answers if a.error or a.status != 200]

    def versions(self, since: float = 0.0, until: float = float("inf")) -> Counter[str | None]:
        return Counter(a.version for a in self.answers if since <= a.at < until)


def split(counts: Mapping[Any, int]) -> dict[Any, float]:
    """Share of each key, as a fraction of the total."""
    total = sum(counts.values())
    return {key: n / total for key, n in counts.items()}


@dataclass(frozen=True)
class Load:
    """`count` POSTs of `payload` to `url`, `concurrency` at once, each worker pausing
    `pause` seconds between its requests (a steady rate rather than a burst);
    `seconds` > 0 ends the run after that long even if requests are left, and
    `stop` ends it when set."""

    url: str
    count: int
    payload: Any
    headers: Headers = lambda _: {}
    concurrency: int = 16
    pause: float = 0.0
    seconds: float = 0.0
    stop: threading.Event | None = None


async def _worker(client: httpx.AsyncClient, load: Load, queue: asyncio.Queue[int],
                  traffic: Traffic, started: float) -> None:  # fmt: skip
    while not queue.empty():
        if load.seconds and time.monotonic() - started > load.seconds:
            return
        if load.stop is not None and load.stop.is_set():
            return
        index = queue.get_nowait()
        try:
            response = await client.post(load.url, json=load.payload, headers=load.headers(index))
            answer = Answer(response.status_code, response.headers.get("x-model-version"),
                            time.monotonic() - started)  # fmt: skip
        except httpx.HTTPError as exc:
            answer = Answer(0, None, time.monotonic() - started, repr(exc))
        traffic.answers.append(answer)
        if load.pause:
            await asyncio.sleep(load.pause)


async def run_load(load: Load, traffic: Traffic | None = None) -> Traffic:
    """Run `load` inside an existing event loop, recording into `traffic` (which others
    may read while it runs) or a new one."""
    traffic = Traffic() if traffic is None else traffic
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(load.count):
        queue.put_nowait(index)
    started = traffic.started = time.monotonic()
    limits = httpx.Limits(max_connections=load.concurrency)
    async with httpx.AsyncClient(timeout=30.0, limits=limits, trust_env=False) as client:
        workers = [_worker(client, load, queue, traffic, started) for _ in range(load.concurrency)]
        await asyncio.gather(*workers)
    return traffic


def send_many(load: Load, traffic: Traffic | None = None) -> Traffic:
    return asyncio.run(run_load(load, traffic))

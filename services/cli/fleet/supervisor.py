"""Keep the local fleet's children running, as a kubelet keeps a pod's containers.

A child that exits while the stack runs (a crash, a kill, even a clean exit) has
what is left of its process group killed and is started again after a backoff:
kubelet's CrashLoopBackOff, scaled to a laptop (see `Backoff`). A child that
keeps crashing is left down and reported; the others keep serving. Every exit,
restart and return to readiness is one `[up]` line, with the reason.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from .children import STOP_GRACE_SECONDS, Child, Console, end_group, spawn, stop_all

__all__ = ["TICK_SECONDS", "Backoff", "Supervisor", "exit_reason"]

TICK_SECONDS = 0.2
PROBE_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Backoff:
    """When a child that exited starts again.

    The n-th crash in a row waits `first * 2**(n-1)` seconds, at most `cap`. A run
    that lasted `reset_after` seconds was healthy, so the crash that ends it counts
    as the first again. The `give_up_after`-th crash in a row leaves the child down.
    """

    first: float = 1.0
    cap: float = 8.0
    reset_after: float = 60.0
    give_up_after: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.cap or self.reset_after <= 0 or self.give_up_after < 1:
            raise ValueError(f"invalid backoff {self}")

    def streak(self, previous: int, ran_seconds: float) -> int:
        """Crashes in a row, counting the one that ended a run of `ran_seconds`."""
        return 1 if ran_seconds >= self.reset_after else previous + 1

    def delay(self, streak: int) -> float | None:
        """Seconds to wait before the next start; None: give up."""
        if streak >= self.give_up_after:
            return None
        return float(min(self.cap, self.first * 2 ** (streak - 1)))


def exit_reason(returncode: int) -> str:
    """`exited with code 1` or `was killed by SIGKILL`."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class _Unit:
    """One supervised child: how to start it, how to tell it is ready, where it stands."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    ready_url: str | None
    pass_fds: Sequence[int]
    child: Child | None = None
    started_at: float = 0.0
    ready: bool = False
    streak: int = 0
    restarts: int = 0
    restart_at: float | None = None
    gave_up: bool = False


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url, timeout=PROBE_TIMEOUT_SECONDS).status_code == 200
    except httpx.HTTPError:
        return False


class Supervisor:
    """Starts children, restarts them with backoff, and stops them all.

    Driven by `tick()` from one thread (the launcher's main loop), so a restart can
    never race `stop()`: once the loop ends, nothing starts again.
    """

    def __init__(
        self,
        console: Console,
        backoff: Backoff = Backoff(),
        on_give_up: Callable[[str], None] = lambda name: None,
    ) -> None:
        self._console = console
        self._backoff = backoff
        self._on_give_up = on_give_up
        self._units: dict[str, _Unit] = {}
        self._http = httpx.Client(trust_env=False)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        ready_url: str | None = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        """Start a child; `ready_url` answers 200 once it serves (None: at once)."""
        unit = _Unit(name, argv, env, ready_url, pass_fds)
        self._units[name] = unit
        self._spawn(unit)

    def pending(self) -> list[str]:
        """Children not ready yet, except those given up on."""
        return [u.name for u in self._units.values() if not u.ready and not u.gave_up]

    def given_up(self) -> list[str]:
        return [u.name for u in self._units.values() if u.gave_up]

    def alive(self) -> list[str]:
        """Children running or waiting out a backoff."""
        return [u.name for u in self._units.values() if not u.gave_up]

    def tick(self) -> None:
        """Notice exits, start what waited out its backoff, probe what is not ready."""
        for unit in self._units.values():
            now = time.monotonic()
            if unit.child is not None and unit.child.process.poll() is not None:
                self._exited(unit, unit.child, now)
            elif unit.restart_at is not None and now >= unit.restart_at:
                self._spawn(unit)
            elif unit.child is not None and not unit.ready:
                self._probe(unit)

    def wait_ready(self, timeout: float, stop: threading.Event) -> None:
        """Tick until every child not given up is ready; TimeoutError naming the rest."""
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            self.tick()
            if not self.pending():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:g}s: {', '.join(self.pending())}")
            stop.wait(TICK_SECONDS)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop every running child (pending restarts are dropped)."""
        running = [u.child for u in self._units.values() if u.child is not None]
        for unit in self._units.values():
            unit.restart_at = None
        self._http.close()
        stop_all(running, self._console, grace)

    def _say(self, text: str) -> None:
        self._console.line("up", text)

    def _spawn(self, unit: _Unit) -> None:
        unit.restart_at = None
        if unit.streak:
            unit.restarts += 1
            self._say(f"restarting {unit.name} (restart {unit.restarts})")
        unit.child = spawn(unit.name, unit.argv, unit.env, self._console, unit.pass_fds)
        unit.started_at = time.monotonic()
        unit.ready = unit.ready_url is None

    def _probe(self, unit: _Unit) -> None:
        if unit.ready_url is not None and _answers(self._http, unit.ready_url):
            unit.ready = True
            if unit.restarts:
                self._say(f"{unit.name} is ready again (restart {unit.restarts})")

    def _exited(self, unit: _Unit, child: Child, now: float) -> None:
        end_group(child)
        unit.child, unit.ready = None, False
        ran = now - unit.started_at
        unit.streak = self._backoff.streak(unit.streak, ran)
        delay = self._backoff.delay(unit.streak)
        why = f"{unit.name} {exit_reason(child.process.returncode)} after {ran:.1f}s"
        if delay is None:
            unit.gave_up = True
            self._say(
                f"{why}, its crash {unit.streak} in a row: leaving it down, the others keep "
                "serving (see its output above; fix it, then restart the stack)"
            )
            self._on_give_up(unit.name)
            return
        unit.restart_at = now + delay
        self._say(f"{why}; restart {unit.restarts + 1} in {delay:g}s")

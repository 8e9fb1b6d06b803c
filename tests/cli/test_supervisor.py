"""The local fleet's supervisor: restarts with backoff, gives up, stops cleanly."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from services.cli.fleet.children import Console
from services.cli.fleet.supervisor import Backoff, Supervisor, exit_reason
from tests.processes import alive, free_port, wait_until

FAST = Backoff(first=0.05, cap=0.2, reset_after=60, give_up_after=5)
CRASH = [sys.executable, "-c", "import sys; sys.exit(3)"]
STEADY = [sys.executable, "-c", "import os, time; os.write(1, b'steady\\n'); time.sleep(120)"]
# A leader with a child of its own (as a gunicorn master has workers), both reporting.
FAMILY = r"""
import os, time
if os.fork() == 0:
    os.write(1, f"worker {os.getpid()}\n".encode())
else:
    os.write(1, f"leader {os.getpid()}\n".encode())
time.sleep(120)
"""
WEB = r"""
import http.server, os, sys
os.write(1, f"server {os.getpid()}\n".encode())
handler = http.server.SimpleHTTPRequestHandler
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"""


class Run:
    """A supervisor whose output is kept, ticked until a condition holds."""

    def __init__(self, backoff: Backoff = FAST) -> None:
        self.out = io.StringIO()
        self.supervisor = Supervisor(Console(self.out), backoff)

    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()

    def up_lines(self) -> list[str]:
        return [line for line in self.lines() if line.startswith("[up] ")]

    def tick_until(self, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
        def ticked() -> bool:
            self.supervisor.tick()
            return check()

        wait_until(ticked, timeout, what, step=0.02)

    def pids(self, word: str) -> list[int]:
        return [int(line.split()[-1]) for line in self.lines() if f"] {word} " in line]


@pytest.fixture
def run() -> Iterator[Run]:
    started = Run()
    yield started
    started.supervisor.stop(grace=2)


def test_backoff_doubles_to_its_cap_resets_after_a_good_run_and_gives_up() -> None:
    backoff = Backoff(first=1, cap=8, reset_after=60, give_up_after=6)
    assert [backoff.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 8, None]
    assert backoff.streak(previous=3, ran_seconds=5) == 4
    assert backoff.streak(previous=3, ran_seconds=60) == 1  # it had run well
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(first=0)


def test_exit_reasons_name_the_code_or_the_signal() -> None:
    assert exit_reason(3) == "exited with code 3"
    assert exit_reason(0) == "exited with code 0"
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"


def test_a_crashing_child_is_restarted_with_doubling_delays_then_left_down(run: Run) -> None:
    run.supervisor.start("crash", CRASH, {})
    run.tick_until(lambda: run.supervisor.given_up() == ["crash"], "the give-up")
    expected = [
        r"crash exited with code 3 after \d+\.\ds; restart 1 in 0\.05s",
        r"restarting crash \(restart 1\)",
        r"crash exited with code 3 after \d+\.\ds; restart 2 in 0\.1s",
        r"restarting crash \(restart 2\)",
        r"crash exited with code 3 after \d+\.\ds; restart 3 in 0\.2s",
        r"restarting crash \(restart 3\)",
        r"crash exited with code 3 after \d+\.\ds; restart 4 in 0\.2s",  # the cap
        r"restarting crash \(restart 4\)",
        r"crash exited with code 3 after \d+\.\ds, its crash 5 in a row: leaving it down, "
        r"the others keep serving",
    ]
    lines = run.up_lines()
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.match(r"\[up\] " + pattern, line), (line, pattern)
    time.sleep(0.5)
    run.supervisor.tick()
    assert len(run.up_lines()) == len(expected)  # given up: never started again


def test_the_others_keep_running_when_one_is_given_up(run: Run) -> None:
    run.supervisor.start("steady", STEADY, {})
    run.supervisor.start("crash", CRASH, {})
    run.tick_until(lambda: run.supervisor.given_up() == ["crash"], "the give-up")
    assert run.supervisor.alive() == ["steady"]
    assert "[steady] steady" in run.lines()
    assert not any("steady" in line for line in run.up_lines())  # never restarted


def test_a_killed_leader_is_reported_by_signal_its_group_cleared_and_it_restarts(
    run: Run,
) -> None:
    run.supervisor.start("family", [sys.executable, "-c", FAMILY], {})
    run.tick_until(lambda: run.pids("leader") and run.pids("worker"), "the first family")
    (leader,), (worker,) = run.pids("leader"), run.pids("worker")
    os.kill(leader, signal.SIGKILL)  # the leader only: its worker is orphaned
    run.tick_until(lambda: len(run.pids("leader")) == 2, "the restarted leader")
    assert not alive(worker)  # cleared with the group before the restart
    assert re.search(r"\[up\] family was killed by SIGKILL after \d+\.\ds; restart 1 in 0\.05s",
                     run.out.getvalue())  # fmt: skip
    assert "[up] restarting family (restart 1)" in run.out.getvalue()


def test_a_restarted_child_is_reported_ready_again_once_it_answers(run: Run) -> None:
    port = free_port()
    argv = [sys.executable, "-c", WEB, str(port)]
    run.supervisor.start("web", argv, {}, ready_url=f"http://127.0.0.1:{port}/")
    assert run.supervisor.pending() == ["web"]
    run.supervisor.wait_ready(30, threading.Event())
    assert "ready again" not in run.out.getvalue()  # the first start is not a restart
    os.kill(run.pids("server")[0], signal.SIGKILL)
    run.tick_until(lambda: "[up] web is ready again (restart 1)" in run.lines(), "ready again")
    assert run.supervisor.pending() == []


def test_stop_during_a_backoff_returns_at_once_and_starts_nothing() -> None:
    run = Run(Backoff(first=30, cap=30))
    run.supervisor.start("crash", CRASH, {})
    run.tick_until(lambda: any("restart 1 in 30s" in line for line in run.lines()), "a backoff")
    started = time.monotonic()
    run.supervisor.stop(grace=5)
    assert time.monotonic() - started < 5  # it did not wait out the 30 s
    run.supervisor.tick()
    assert not any("restarting" in line for line in run.lines())

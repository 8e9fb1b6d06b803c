"""Process CPU time and children, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.cpu import children, cpu_seconds


def test_cpu_seconds_count_the_work_a_process_did() -> None:
    before = cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert 0.2 <= cpu_seconds([os.getpid()]) - before < 5


def test_children_are_found_by_their_command_line() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert sleeper.pid in children(os.getpid(), "time.sleep(30)")
        assert sleeper.pid not in children(os.getpid(), "no such command")
    finally:
        sleeper.kill()
        sleeper.wait()

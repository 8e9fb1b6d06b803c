"""Child processes of the local stack: prefixed output, whole process groups stopped."""

from __future__ import annotations

import io
import os
import socket
import sys

from services.cli.fleet.supervisor import Console, free_loopback_ports, spawn, stop_all
from tests.processes import wait_until

# A child that forks a grandchild which ignores SIGTERM, then prints and waits.
STUBBORN = """
import os, signal, sys, time
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("grandchild", os.getpid(), flush=True)
    time.sleep(120)
else:
    print("hello from the child", flush=True)
    time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_output_is_prefixed_and_the_whole_group_is_stopped() -> None:
    out = io.StringIO()
    console = Console(out)
    child = spawn("demo", [sys.executable, "-c", STUBBORN], {}, console)
    # Parent and grandchild print in either order; wait for both lines.
    wait_until(
        lambda: "[demo] hello from the child\n" in out.getvalue()
        and "[demo] grandchild " in out.getvalue(),
        20, "both lines, prefixed",
    )  # fmt: skip
    grandchild = int(out.getvalue().split("grandchild ")[1].split()[0])
    stop_all([child], console, grace=1.0)
    assert child.process.returncode is not None
    # SIGKILLed with its group; on a loaded machine it can take a moment to be gone.
    wait_until(lambda: not alive(grandchild), 5, f"grandchild {grandchild} to be gone")
    assert os.getpgid(os.getpid()) != child.process.pid  # it had its own group


def test_free_ports_prefer_the_given_one_and_skip_busy_ones() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        ports = free_loopback_ports(3, taken)
    assert len(set(ports)) == 3 and taken not in ports

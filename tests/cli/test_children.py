"""Child processes of the local stack: prefixed output, whole process groups stopped."""

from __future__ import annotations

import io
import os
import sys

from services.cli.fleet.children import Console, spawn, stop_all
from tests.processes import alive, wait_until

# A child that forks a grandchild which ignores SIGTERM, then prints and waits. Each
# line is one write(2): print() with unbuffered output writes its parts one by one,
# and two processes sharing the pipe interleaved them ("grandchildhello ...").
STUBBORN = r"""
import os, signal, sys, time
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.write(1, f"grandchild {os.getpid()}\n".encode())
    time.sleep(120)
else:
    os.write(1, b"hello from the child\n")
    time.sleep(120)
"""


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


def test_inherited_descriptors_reach_the_child() -> None:
    read_end, write_end = os.pipe()
    try:
        out = io.StringIO()
        code = f"import os; os.write({write_end}, b'through the pipe')"
        child = spawn("fd", [sys.executable, "-c", code], {}, Console(out), pass_fds=[write_end])
        assert child.process.wait(30) == 0
        assert os.read(read_end, 100) == b"through the pipe"
    finally:
        os.close(read_end)
        os.close(write_end)

"""Child processes of the local stack: own sessions, prefixed output, clean stops.

Each child starts in its own session (process group), so a terminal's Ctrl-C
reaches only the launcher, which then stops every group itself: gunicorn
masters get SIGTERM and drain their workers; whatever is left after the grace
period is killed with its whole group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

__all__ = ["Child", "Console", "end_group", "spawn", "stop_all"]

STOP_GRACE_SECONDS = 20.0


class Console:
    """Whole lines from many threads, each prefixed with its source: `[iris-v1] ...`."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def line(self, source: str, text: str) -> None:
        with self._lock:
            self._stream.write(f"[{source}] {text}\n")
            self._stream.flush()


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread


def _pump(name: str, pipe: IO[bytes], console: Console) -> None:
    for raw in pipe:
        console.line(name, raw.decode("utf-8", "replace").rstrip())
    pipe.close()


def spawn(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    console: Console,
    pass_fds: Sequence[int] = (),
) -> Child:
    """Start `argv` in its own session with `env` added (and the file descriptors
    `pass_fds` inherited); its output is streamed prefixed."""
    process = subprocess.Popen(
        list(argv),
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
    )
    if process.stdout is None:  # cannot happen with stdout=PIPE; keeps the type exact
        raise RuntimeError(f"{name}: no output pipe")
    pump = threading.Thread(target=_pump, args=(name, process.stdout, console), daemon=True)
    pump.start()
    return Child(name, process, pump)


def _signal_group(child: Child, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)


def end_group(child: Child) -> None:
    """After the leader is gone (or must go): SIGKILL what is left of its group (a
    dead gunicorn master's workers), reap the leader and finish its output."""
    _signal_group(child, signal.SIGKILL)
    child.process.wait()
    child.pump.join(timeout=2)


def stop_all(
    children: Sequence[Child], console: Console, grace: float = STOP_GRACE_SECONDS
) -> None:
    """SIGTERM every group, wait up to `grace` seconds, then SIGKILL what is left."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            console.line("up", f"{child.name} did not stop within {grace:g}s: killing it")
        end_group(child)

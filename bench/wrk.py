"""Running Debian's `wrk` with `post.lua` and reading its JSON summary."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .cpu import cpu_seconds

__all__ = ["Measurement", "run_wrk", "wrk_binary", "wrk_version"]

SCRIPT = Path(__file__).with_name("post.lua")
REQUEST_TIMEOUT = "30s"


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    """Connect, read, write and timeout errors plus answers with a status >= 400."""
    cpu_seconds: float | None = None
    """CPU time the measured server processes spent during the run, if asked for."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds * 1e3 / self.requests


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `make .tools/apt.stamp` (Debian package wrk)")
    return found


def wrk_version() -> str:
    done = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0]


def parse_summary(output: str) -> Measurement:
    """The measurement in the JSON line `post.lua`'s done() printed last."""
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError(f"wrk printed no summary:\n{output}")
    raw = json.loads(lines[-1])
    return Measurement(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        errors=sum(raw[k] for k in ("connect", "read", "write", "status", "timeout")),
    )


def run_wrk(
    url: str,
    path: str,
    content_type: str,
    bodies: Sequence[Path],
    *,
    connections: int,
    seconds: int,
    pids: Sequence[int] = (),
) -> Measurement:
    """`connections` keep-alive connections, each sending its next request on an answer;
    with `pids`, also the CPU time those processes spent meanwhile."""
    argv = [
        wrk_binary(), "--threads", "1", "--connections", str(connections),
        "--duration", f"{seconds}s", "--timeout", REQUEST_TIMEOUT, "--script", str(SCRIPT),
        url, "--", path, content_type, *map(str, bodies),
    ]  # fmt: skip
    before = cpu_seconds(pids)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    spent = cpu_seconds(pids) - before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    measured = parse_summary(done.stdout)
    return dataclasses.replace(measured, cpu_seconds=spent) if pids else measured

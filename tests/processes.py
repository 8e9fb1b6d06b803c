"""Real server processes for tests: start on a free loopback port, wait, stop the group.

Each server runs in its own session (process group), so stopping it also stops
any workers it forked, and its output goes to a log file shown when it fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

__all__ = [
    "STACK_MARKER",
    "Server",
    "alive",
    "all_ready",
    "child_pids",
    "free_port",
    "launch",
    "launch_gateway",
    "launch_stack",
    "marked_processes",
    "python_module",
    "start_server",
    "stop_server",
    "stop_stack",
    "wait_ready",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[1]
STACK_MARKER = "MODELFLEET_TEST_STACK"
"""Environment variable set on a test stack and so inherited by all its children."""


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (never a fixed test port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _answers(server: Server, path: str) -> bool:
    if server.process.poll() is not None:
        raise RuntimeError(
            f"{server.name} exited ({server.process.returncode}):\n{server.output()}"
        )
    try:
        return httpx.get(server.url + path, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def child_pids(parent: int) -> list[int]:
    """The live children of `parent`: a gunicorn master's workers."""
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def launch(
    name: str,
    argv: Callable[[int], list[str]],
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """Start `argv(port)` from the repo root in its own session; does not wait."""
    port = port or free_port()
    log = log_dir / f"{name}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            argv(port), cwd=ROOT, env=full_env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return Server(name, process, port, log, dict(env or {}))


def wait_ready(server: Server, ready_path: str = "/readyz", timeout: float = 60.0) -> Server:
    """Return once `ready_path` answers 200; stop the server and raise if it never does."""
    try:
        wait_until(lambda: _answers(server, ready_path), timeout, f"{server.name} on {server.url}")
    except BaseException:
        stop_server(server)
        raise
    return server


def start_server(
    name: str,
    argv: Callable[[int], list[str]],
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/readyz",
    timeout: float = 60.0,
) -> Server:
    """`launch` then `wait_ready`."""
    return wait_ready(launch(name, argv, log_dir, env), ready_path, timeout)


def stop_server(server: Server, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal the whole process group; SIGKILL what is left after `timeout` (or orphaned)."""
    _signal_group(server, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout)
    _signal_group(server, signal.SIGKILL)  # workers a dead leader left behind
    server.process.wait(5)


def _signal_group(server: Server, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, sig)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def launch_stack(
    folder: Path,
    values: Path,
    registry: Path,
    *options: str,
    env: Mapping[str, str] = {},
    port: int | None = None,
) -> tuple[Server, str]:
    """`modelfleet up` on `values`, writing under `folder`, its gateway on `port` (a free
    one by default); its children all carry the returned marker (see
    `marked_processes`), so none can outlive the test unseen."""
    port, marker = port or free_port(), uuid.uuid4().hex
    argv = python_module(
        "services.cli", "up", "--values", str(values), "--registry", str(registry),
        "--port", str(port), "--state-dir", str(folder / "state"), *options,
    )  # fmt: skip
    server = launch("stack", lambda _: argv, folder, {STACK_MARKER: marker, **env}, port=port)
    return server, marker


def launch_gateway(folder: Path, routes: Mapping[str, Any]) -> Server:
    """A ready gateway process on a free port, routing by `routes` (a routes.yaml table)."""
    routes_file = folder / "routes" / "routes.yaml"
    routes_file.parent.mkdir(parents=True)
    routes_file.write_text(yaml.safe_dump(dict(routes)))
    port = free_port()
    env = {"MODELFLEET_ROUTES_FILE": str(routes_file), "MODELFLEET_SERVER__HOST": "127.0.0.1",
           "MODELFLEET_SERVER__PORT": str(port)}  # fmt: skip
    return wait_ready(launch("gateway", lambda _: python_module("gateway"), folder, env, port))


def stop_stack(server: Server, marker: str, timeout: float = 15.0) -> None:
    """Stop a stack; SIGKILL any child it failed to stop itself."""
    stop_server(server, timeout=timeout)
    for pid in marked_processes(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries `marker` (every child of one stack)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"{STACK_MARKER}={marker}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def all_ready(url: str, headers: Mapping[str, str] | None = None) -> bool:
    try:
        models = httpx.get(f"{url}/models", headers=headers, timeout=2).json()["models"]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    return all(v["ready"] for m in models for v in m["versions"])

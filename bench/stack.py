"""The processes a benchmark drives, each on a free port of 127.0.0.1.

Every model runs twice, batching on (`MAX_BATCH_SIZE=32`) and off
(`MAX_BATCH_SIZE=1`), each as one gunicorn worker with its torch threads set
explicitly; two gateways route to the batching-on and batching-off services,
so every path (direct or gateway) exists for both. Services are started the
way `modelfleet serve` and a pod start them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from services.runtime.cli import gunicorn_command, serve_environment

__all__ = ["BATCHING", "ROUTES", "Process", "Stack", "running_stack"]

BATCHING = {"on": "32", "off": "1"}
"""`MODELFLEET_BATCHING__MAX_BATCH_SIZE` per batching mode; off means one instance per call."""
ROUTES = ("direct", "gateway")
READY_TIMEOUT_SECONDS = 300


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    services: dict[tuple[str, str], Process] = field(default_factory=dict)
    """(model, batching) -> its model service."""
    gateways: dict[str, Process] = field(default_factory=dict)
    """batching -> the gateway routing to that mode's services."""

    def target(self, model: str, batching: str, route: str) -> tuple[str, str]:
        """(base URL, path) that predicts with `model` along `route`."""
        if route == "direct":
            return self.services[model, batching].url, f"/v1/models/{model}/predict"
        return self.gateways[batching].url, f"/models/{model}/predict"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(name: str, argv: list[str], env: dict[str, str], port: int, logs: Path) -> Process:
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            argv, env=os.environ | env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )  # fmt: skip
    return Process(name, port, popen, log)


def _wait_ready(process: Process) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited; its log:\n{process.log.read_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(process.url + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(
        f"{process.name} not ready after {READY_TIMEOUT_SECONDS}s; see {process.log}"
    )


def _stop(process: Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGTERM)
    try:
        process.popen.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()


def _service(model: str, batching: str, registry: Path, torch_threads: int, logs: Path) -> Process:
    port = _free_port()
    env = serve_environment(model, "v1", port, host="127.0.0.1", workers=1, registry=registry)
    env |= {
        "MODELFLEET_TORCH_THREADS": str(torch_threads),
        "MODELFLEET_BATCHING__MAX_BATCH_SIZE": BATCHING[batching],
        "MODELFLEET_BATCHING__MAX_WAIT_MS": "0",
        "MODELFLEET_BATCHING__MAX_QUEUE": "256",
        "MODELFLEET_METRICS_DIR": str(logs),
        "HF_HUB_OFFLINE": "1",
    }
    return _launch(f"{model}-batching-{batching}", gunicorn_command(), env, port, logs)


def _gateway(batching: str, services: dict[str, str], logs: Path) -> Process:
    routes = {
        "models": {
            model: {
                "versions": {"v1": {"url": url, "weight": 100}},
                "timeoutSeconds": 60,
                "retries": 0,
            }
            for model, url in services.items()
        }
    }
    routes_file = logs / f"routes-batching-{batching}.yaml"
    routes_file.write_text(yaml.safe_dump(routes))
    port = _free_port()
    env = {
        "MODELFLEET_ROUTES_FILE": str(routes_file),
        "MODELFLEET_SERVER__HOST": "127.0.0.1",
        "MODELFLEET_SERVER__PORT": str(port),
    }
    argv = [sys.executable, "-m", "gateway"]
    return _launch(f"gateway-batching-{batching}", argv, env, port, logs)


@contextlib.contextmanager
def running_stack(
    models: Sequence[str], registry: Path, torch_threads: int, logs: Path
) -> Iterator[Stack]:
    """Start every service and both gateways, wait until all are ready, stop them after."""
    stack = Stack()
    processes: list[Process] = []
    try:
        for model in models:
            for batching in BATCHING:
                stack.services[model, batching] = _service(
                    model, batching, registry, torch_threads, logs
                )
                processes.append(stack.services[model, batching])
        for batching in BATCHING:
            urls = {model: stack.services[model, batching].url for model in models}
            stack.gateways[batching] = _gateway(batching, urls, logs)
            processes.append(stack.gateways[batching])
        for process in processes:
            _wait_ready(process)
        yield stack
    finally:
        for process in processes:
            _stop(process)

"""The local stacks a benchmark drives: `modelfleet up`, once per batching mode.

Each stack runs from a values file derived from the fleet's own
(`charts/modelfleet/values.yaml`: its `modelDefaults` and every other key),
with the benchmarked models served as one version each at weight 100, one
gunicorn worker, torch threads set explicitly, and batching on
(`maxBatchSize: 32`) or off (`maxBatchSize: 1`). The services' own URLs come
from the routes.yaml the stack writes, so every model is reachable directly
and through that stack's gateway.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from .cpu import children

__all__ = [
    "BATCHING", "ROUTES", "Stack", "bench_values", "free_port", "ready", "running_stacks", "stop",
]  # fmt: skip

BATCHING = {"on": 32, "off": 1}
"""`batching.maxBatchSize` per mode; off means one instance per model call."""
ROUTES = ("direct", "gateway")
READY_TIMEOUT_SECONDS = 300


@dataclass
class Stack:
    gateways: dict[str, str] = field(default_factory=dict)
    """batching mode -> URL of that stack's gateway."""
    services: dict[tuple[str, str], str] = field(default_factory=dict)
    """(model, batching mode) -> URL of the model's service."""
    gateway_pids: dict[str, int] = field(default_factory=dict)
    """batching mode -> process id of that stack's gateway (its CPU time is measured)."""

    def target(self, model: str, batching: str, route: str) -> tuple[str, str]:
        """(base URL, path) that predicts with `model` along `route`."""
        if route == "direct":
            return self.services[model, batching], f"/v1/models/{model}/predict"
        return self.gateways[batching], f"/models/{model}/predict"


def bench_values(
    fleet: Mapping[str, Any], models: Sequence[str], max_batch_size: int, torch_threads: int
) -> dict[str, Any]:
    """The fleet's values with only `models`, each one pinned-down version."""
    values = copy.deepcopy(dict(fleet))
    values["models"] = {
        model: {
            "versions": {"v1": {"weight": 100}},
            "workers": 1,
            "torchThreads": torch_threads,
            "batching": {"maxBatchSize": max_batch_size, "maxWaitMs": 0, "maxQueue": 256},
            "timeoutSeconds": 60,
            "retries": 0,  # a retried request would hide an error from the count
        }
        for model in models
    }
    return values


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/readyz", timeout=2, trust_env=False).status_code == 200
    return False


def _check_alive(process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"modelfleet up exited; its output:\n{log.read_text()[-3000:]}")
    if time.monotonic() > deadline:
        raise TimeoutError(f"modelfleet up not ready after {READY_TIMEOUT_SECONDS}s; see {log}")


def _wait_ready(process: subprocess.Popen[bytes], work: Path, gateway: str) -> dict[str, str]:
    """Wait for the routes.yaml `up` writes, then for the gateway and every service
    it names to be ready; the services' URLs by model."""
    log, routes_file = work / "up.log", work / "state" / "routes.yaml"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not routes_file.is_file():
        _check_alive(process, log, deadline)
        time.sleep(0.1)
    routes = yaml.safe_load(routes_file.read_text())
    services = {model: route["versions"]["v1"]["url"] for model, route in routes["models"].items()}
    pending = [gateway, *services.values()]
    while pending:
        _check_alive(process, log, deadline)
        pending = [url for url in pending if not ready(url)]
        time.sleep(0.3)
    return services


def _launch(
    values: dict[str, Any], registry: Path, work: Path, port: int
) -> subprocess.Popen[bytes]:
    """Start `modelfleet up` on `values`, its gateway on `port`, writing under `work`.

    The values file, the state folder (routes.yaml) and the log sit apart: `up`
    and the gateway watch the first two folders, and a log growing beside them
    would wake both on every line.
    """
    for folder in ("values", "state"):
        (work / folder).mkdir(parents=True)
    (work / "values" / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    argv = [
        sys.executable, "-m", "services.cli", "up",
        "--values", str(work / "values" / "values.yaml"), "--registry", str(registry),
        "--port", str(port), "--state-dir", str(work / "state"),
    ]  # fmt: skip
    with (work / "up.log").open("wb") as sink:
        return subprocess.Popen(
            argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            env=os.environ | {"HF_HUB_OFFLINE": "1"},
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: `modelfleet up` stops every service and its gateway, then exits."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running_stacks(
    fleet: Mapping[str, Any], models: Sequence[str], registry: Path, torch_threads: int, work: Path
) -> Iterator[Stack]:
    """Both stacks, ready; stopped on exit. They start one after the other because
    `modelfleet up` takes the first free ports from 8101 and two at once could race."""
    combined = Stack()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for mode, size in BATCHING.items():
            folder = work / f"stack-batching-{mode}"
            values = bench_values(fleet, models, size, torch_threads)
            port = free_port()
            processes.append(process := _launch(values, registry, folder, port))
            combined.gateways[mode] = f"http://127.0.0.1:{port}"
            services = _wait_ready(process, folder, combined.gateways[mode])
            (combined.gateway_pids[mode],) = children(process.pid, "-m gateway")
            combined.services |= {(model, mode): url for model, url in services.items()}
        yield combined
    finally:
        for process in processes:
            stop(process)

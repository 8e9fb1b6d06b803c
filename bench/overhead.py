"""What the runtime costs: a model service beside the reference app and the ceiling.

For each model and worker count, two gunicorn servers from the same settings and
the same gunicorn config: the model service (`services.runtime.app`, its defaults
on: metrics, tracing with the default sampler, the access log at info) and the
reference app (`bench.reference`), plus the in-process ceiling (`bench.ceiling`)
of that layout. Every round measures each (model, workers, concurrency) pair of
servers back to back, in reverse order every other round, then the ceiling.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.serve import serve_environment

from .ceiling import Ceiling, running_ceiling
from .clients import CLIENTS, launch_proxy
from .cpu import children
from .stack import READY_TIMEOUT_SECONDS, free_port, ready, stop

__all__ = [
    "APPS",
    "PROXIED_WORKERS",
    "SERVED",
    "WORKERS",
    "Servers",
    "running_servers",
    "server_env",
]

APPS = {"runtime": "services.runtime.app:create_app()", "reference": "bench.reference:create_app()"}
"""Server name -> the gunicorn app it serves."""
WORKERS = (1, 2)
PROXIED_WORKERS = 2
"""The iris layout the client A/B proxies stand in front of."""
SERVED = ("iris", "minilm")
"""The models measured this way: one overhead-bound, one model-bound; both JSON in."""
MAX_BATCH_SIZE = 32
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Servers:
    urls: dict[tuple[str, int, str], str] = field(default_factory=dict)
    """(model, workers, app) -> the server's URL."""
    pids: dict[str, int] = field(default_factory=dict)
    """URL -> the gunicorn master's process id (its workers are its children)."""
    proxies: dict[str, int] = field(default_factory=dict)
    """URL -> process id of a client A/B proxy (`bench.clients`)."""

    def measured_pids(self, url: str) -> list[int]:
        """The processes that serve `url`: a proxy, or a gunicorn master's workers."""
        return [self.proxies[url]] if url in self.proxies else children(self.pids[url])

    ceilings: dict[tuple[str, int], Ceiling] = field(default_factory=dict)
    """(model, workers) -> that layout's ceiling."""


def server_env(
    model: str, workers: int, port: int, registry: Path, torch_threads: int, work: Path
) -> dict[str, str]:
    """A model service's settings (the benchmark's batching, its own metrics folder)."""
    return serve_environment(
        model, "v1", port, host="127.0.0.1", workers=workers, registry=registry
    ) | {
        "MODELFLEET_TORCH_THREADS": str(torch_threads),
        "MODELFLEET_BATCHING__MAX_BATCH_SIZE": str(MAX_BATCH_SIZE),
        "MODELFLEET_BATCHING__MAX_WAIT_MS": "0",
        "MODELFLEET_METRICS_DIR": str(work / "metrics"),
        "HF_HUB_OFFLINE": "1",
    }


def _launch(app: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:services.runtime.gunicorn_conf",
        app,
    ]
    with log.open("wb") as sink:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_ready(processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    pending = set(processes)
    while pending:
        for url in list(pending):
            if processes[url].poll() is not None:
                raise RuntimeError(f"{url} exited; its output:\n{logs[url].read_text()[-3000:]}")
            if ready(url):
                pending.discard(url)
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {READY_TIMEOUT_SECONDS}s: {sorted(pending)}")
        time.sleep(0.3)


def _add_proxies(
    servers: Servers,
    processes: dict[str, subprocess.Popen[bytes]],
    logs: dict[str, Path],
    work: Path,
) -> None:
    """The client A/B proxies, in front of the two-worker iris model service."""
    upstream = servers.urls.get(("iris", PROXIED_WORKERS, "runtime"))
    if upstream is None:
        return
    for client, factory in CLIENTS.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        logs[url] = work / f"proxy-{client}.log"
        processes[url] = launch_proxy(factory, upstream, port, logs[url])
        servers.proxies[url] = processes[url].pid
        servers.urls["iris", PROXIED_WORKERS, f"via {client}"] = url


@contextlib.contextmanager
def running_servers(
    models: Sequence[str],
    bodies: dict[str, Sequence[bytes]],
    registry: Path,
    torch_threads: int,
    work: Path,
) -> Iterator[Servers]:
    """Every (model, workers, app) server and every layout's ceiling, ready; stopped on exit."""
    servers = Servers()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}
    with contextlib.ExitStack() as stack:
        try:
            for model in models:
                for workers in WORKERS:
                    for name, app in APPS.items():
                        port = free_port()
                        folder = work / f"{name}-{model}-{workers}"
                        folder.mkdir(parents=True)
                        env = server_env(model, workers, port, registry, torch_threads, folder)
                        url = f"http://127.0.0.1:{port}"
                        logs[url] = folder / "server.log"
                        processes[url] = _launch(app, env, logs[url])
                        servers.pids[url] = processes[url].pid
                        servers.urls[model, workers, name] = url
            _add_proxies(servers, processes, logs, work)
            _wait_ready(processes, logs)
            for model in models:
                for workers in WORKERS:
                    env = server_env(model, workers, 1, registry, torch_threads, work)
                    ceiling = running_ceiling(env, bodies[model], MAX_BATCH_SIZE, workers)
                    servers.ceilings[model, workers] = stack.enter_context(ceiling)
            yield servers
        finally:
            for process in processes.values():
                stop(process)

"""gunicorn configuration for a model service, read from the same settings.

    gunicorn --config python:services.runtime.gunicorn_conf 'services.runtime.app:create_app()'

The directory the workers share is made fresh here, in the master and before
any worker exists, and removed when the master exits: in it, the Prometheus
multiprocess files (so no worker ever imports prometheus_client without them
and no sample survives from an earlier run) and the workers' ready markers
(see `services.runtime.workers`).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from typing import Any

from services.runtime import workers as ready_workers
from services.runtime.logs import logging_config
from services.runtime.settings import RuntimeSettings

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_settings = RuntimeSettings()  # type: ignore[call-arg]
_settings.metrics_dir.mkdir(parents=True, exist_ok=True)
_shared = Path(
    tempfile.mkdtemp(
        prefix=f"modelfleet-{_settings.model}-{_settings.version}-", dir=_settings.metrics_dir
    )
)
_ready_dir = _shared / "ready"
for _folder, _env in (
    (_shared / "metrics", "PROMETHEUS_MULTIPROC_DIR"),
    (_ready_dir, ready_workers.DIRECTORY_ENV),
):
    _folder.mkdir()
    os.environ[_env] = str(_folder)

bind = f"{_settings.server.host}:{_settings.server.port}"
workers = _settings.server.workers
# Several workers: a socket each (SO_REUSEPORT), so the kernel spreads new
# connections evenly over them, where from one shared socket whichever worker woke
# first took a whole burst (32/0 splits of the benchmark's connections). Each socket
# listens only once its worker serves (`post_fork`), so no connection waits on a
# worker still starting. One worker keeps the master's socket: while it restarts,
# callers wait in the kernel's queue instead of being refused.
reuse_port = workers > 1
worker_class = "uvicorn_worker.UvicornWorker"
timeout = _settings.server.timeout_seconds
graceful_timeout = _settings.server.graceful_timeout_seconds
keepalive = _settings.server.keepalive_seconds
logconfig_dict = logging_config(_settings.log_level)
accesslog = None
# gunicorn 27's control socket defaults to one path under $HOME: services on one
# machine would fight over it, and a read-only root filesystem has no $HOME.
control_socket_disable = True
proc_name = f"modelfleet-{_settings.model}-{_settings.version}"
# Each worker loads its own model; preloading would share torch state across forks.
preload_app = False


def post_fork(server: Any, worker: Any) -> None:
    if not reuse_port:
        return
    # gunicorn opened this worker's sockets listening; until uvicorn serves (its
    # create_server listens), a listening socket would take connections nobody
    # accepts, so the worker keeps them bound but not listening.
    worker.sockets = [_bound_only(listener) for listener in worker.sockets]
    # A worker outlives a killed master otherwise, and keeps its share of the port.
    _exit_with_parent(server.pid)


def _bound_only(listener: Any) -> socket.socket:
    address = listener.getsockname()
    fresh = socket.socket(listener.family, socket.SOCK_STREAM)
    listener.close()
    fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    fresh.bind(address)
    fresh.setblocking(False)
    return fresh


def _exit_with_parent(master_pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != master_pid:  # the master died before the signal was armed
        raise SystemExit(0)


def nworkers_changed(server: Any, new_value: int, old_value: int | None) -> None:
    # At start-up and on TTIN/TTOU: the count every worker's readiness compares with.
    ready_workers.set_count(_ready_dir, new_value)


def child_exit(server: Any, worker: Any) -> None:
    # Drops the dead worker's live gauge (in-flight) from /metrics,
    # and its ready marker, so the server is unready until its successor loads.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    ready_workers.forget(_ready_dir, worker.pid)


def on_exit(server: Any) -> None:
    shutil.rmtree(_shared, ignore_errors=True)

"""gunicorn configuration for a model service, read from the same settings.

    gunicorn --config python:services.runtime.gunicorn_conf 'services.runtime.app:create_app()'

The directory the workers share is made fresh here, in the master and before
any worker exists, and removed when the master exits: in it, the Prometheus
multiprocess files (so no worker ever imports prometheus_client without them
and no sample survives from an earlier run) and the workers' ready markers
(see `services.runtime.workers`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from services.runtime import workers as ready_workers
from services.runtime.logs import logging_config
from services.runtime.settings import RuntimeSettings

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
# One listening socket shared by all workers, not gunicorn's `reuse_port`: with a
# socket per worker, connections hashed to a worker still starting wait for it
# while its sibling is free, and a dead server's orphaned workers would keep
# taking a share of a successor's connections on the same port (README, Performance).
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

"""gunicorn configuration for a model service, read from the same settings.

    gunicorn --config python:services.runtime.gunicorn_conf 'services.runtime.app:create_app()'

The Prometheus multiprocess directory is made fresh here, in the master and
before any worker exists, so no worker ever imports prometheus_client without
it and no sample survives from an earlier run.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from services.runtime.logs import logging_config
from services.runtime.settings import RuntimeSettings

_settings = RuntimeSettings()  # type: ignore[call-arg]
_settings.metrics_dir.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
    prefix=f"modelfleet-{_settings.model}-{_settings.version}-", dir=_settings.metrics_dir
)

bind = f"{_settings.server.host}:{_settings.server.port}"
workers = _settings.server.workers
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


def child_exit(server: Any, worker: Any) -> None:
    # Drops the dead worker's live gauges (in-flight, readiness) from /metrics.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

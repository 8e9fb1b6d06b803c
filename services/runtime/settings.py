"""Settings of one model-service process, read from `MODELFLEET_*` variables.

Nested sections use `__`: `MODELFLEET_SERVER__WORKERS=2`,
`MODELFLEET_BATCHING__MAX_BATCH_SIZE=64`. The Helm chart, the `k8s/` overlays
and `modelfleet up` all set these same variables.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BatchingSettings", "RuntimeSettings", "ServerSettings", "TrainingSettings"]

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,40}$"
VERSION_PATTERN = r"^v[1-9][0-9]*$"


class ServerSettings(BaseModel):
    host: str = "0.0.0.0"
    """Address gunicorn binds to (all interfaces in a pod, 127.0.0.1 locally)."""
    port: int = Field(8080, ge=1, le=65535)
    """Port of the HTTP API (8080 in a pod)."""
    workers: int = Field(1, ge=1, le=64)
    """gunicorn worker processes; each loads its own copy of the model."""
    timeout_seconds: int = Field(60, ge=1, le=3600)
    """A worker silent for this long is killed and replaced."""
    graceful_timeout_seconds: int = Field(30, ge=1, le=600)
    """Time in-flight requests get to finish after SIGTERM."""
    keepalive_seconds: int = Field(5, ge=1, le=300)
    """Idle keep-alive connections are closed after this long."""


class BatchingSettings(BaseModel):
    max_batch_size: int = Field(32, ge=1, le=4096)
    """Largest number of instances handed to one `predict` call."""
    max_wait_ms: float = Field(0, ge=0, le=1000)
    """Extra time a batch may wait to fill; 0 never holds a lone request back."""
    max_queue: int = Field(256, ge=1)
    """Instances waiting per worker before new requests get 503 + Retry-After."""


class TrainingSettings(BaseModel):
    """Background fine-tuning jobs of retrainable models (see `training.py`)."""

    max_examples: int = Field(1000, ge=1, le=100_000)
    """Most labelled files one `POST .../train` may upload."""
    torch_threads: int = Field(1, ge=1, le=64)
    """Intra-op threads of the training process, kept low so serving stays fast."""
    niceness: int = Field(10, ge=0, le=19)
    """CPU priority the training process lowers itself by, for the same reason."""


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MODELFLEET_", env_nested_delimiter="__", extra="ignore"
    )

    model: str = Field(pattern=NAME_PATTERN)
    """Model to serve; its class is `services.<model>.Model`."""
    version: str = Field(pattern=VERSION_PATTERN)
    """Registry version to serve, e.g. `v2`."""
    registry: Path = Path("registry")
    """Registry root: `<registry>/<model>/<version>/manifest.json`."""
    server: ServerSettings = ServerSettings()
    batching: BatchingSettings = BatchingSettings()
    training: TrainingSettings = TrainingSettings()
    torch_threads: int = Field(1, ge=1, le=64)
    """Threads one model call may use: torch's intra-op threads and the OpenMP and BLAS
    pools, capped in the model thread (their defaults, one per node core, oversubscribe)."""
    max_body_bytes: int = Field(1_048_576, ge=1024, le=1024 * 1_048_576)
    """Requests with a larger body are refused with 413 before they are parsed."""
    max_instances: int = Field(256, ge=1, le=100_000)
    """Most instances one bulk request may carry."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_dir: Path = Path(tempfile.gettempdir())
    """Parent of the directory the gunicorn workers share (Prometheus multiprocess
    files, ready markers), made fresh at each start and removed at exit."""

    @model_validator(mode="after")
    def _bulk_fits_queue(self) -> RuntimeSettings:
        if self.max_instances > self.batching.max_queue:
            raise ValueError(
                f"max_instances ({self.max_instances}) exceeds batching.max_queue "
                f"({self.batching.max_queue}): such a bulk request could never be queued"
            )
        return self

    @property
    def service_name(self) -> str:
        return f"modelfleet-{self.model}"


def is_version(text: str) -> bool:
    return re.fullmatch(VERSION_PATTERN, text) is not None

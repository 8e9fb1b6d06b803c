"""Gateway settings: one pydantic-settings class, read from `MODELFLEET_*` variables.

Every variable the gateway reads (nested sections use `__`):

| variable | default | meaning |
|---|---|---|
| `MODELFLEET_ROUTES_FILE` | `/etc/modelfleet/routes/routes.yaml` | routes table; watched and hot-reloaded |
| `MODELFLEET_API_KEYS_FILE` | unset (auth off) | file of sha256 hex digests of valid API keys |
| `MODELFLEET_GUARD_STATE_FILE` | unset (in memory) | where the canary guard's holds outlive a restart |
| `MODELFLEET_MAX_BODY_BYTES` | `1048576` | larger request bodies get 413 before forwarding |
| `MODELFLEET_LOG_LEVEL` | `info` | `debug`, `info`, `warning`, `error` |
| `MODELFLEET_SERVER__HOST` | `0.0.0.0` | listen address |
| `MODELFLEET_SERVER__PORT` | `8000` | listen port |
| `MODELFLEET_SERVER__FD` | unset | serve an inherited listening socket instead of binding host:port |
| `MODELFLEET_SERVER__KEEPALIVE_SECONDS` | `5` | idle keep-alive of client connections |
| `MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS` | `30` | drain time after SIGTERM |
| `MODELFLEET_SERVER__METRICS_PORT` | unset (`/metrics` on the main port) | a second port that alone serves `/metrics` |
| `MODELFLEET_UPSTREAM__CONNECT_TIMEOUT_SECONDS` | `1.0` | TCP connect timeout to a model service |
| `MODELFLEET_UPSTREAM__MAX_CONNECTIONS` | `256` | connection pool size towards all services |
| `MODELFLEET_UPSTREAM__KEEPALIVE_EXPIRY_SECONDS` | `4.0` | idle pooled connection lifetime |
| `MODELFLEET_UPSTREAM__READINESS_TIMEOUT_SECONDS` | `1.0` | `/readyz` probe timeout (`GET /models`, readmitting ejected versions) |
| `MODELFLEET_EJECT__FAILURES` | `3` | consecutive failures that eject a version |
| `MODELFLEET_EJECT__COOLDOWN_SECONDS` | `10` | how long an ejected version gets no traffic (then it is probed) |
| `MODELFLEET_SHADOW__MAX_INFLIGHT` | `64` | shadow copies in flight; more are dropped |

Per-model behaviour (weights, timeouts, retries, sticky header, shadow, guard)
lives in the routes file, not here. OpenTelemetry reads the standard `OTEL_*`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "EjectSettings",
    "GatewaySettings",
    "ServerSettings",
    "ShadowSettings",
    "UpstreamSettings",
]

MIB = 1024 * 1024


class ServerSettings(BaseModel):
    """How the gateway's own HTTP server listens."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    host: str = Field(default="0.0.0.0", min_length=1)
    """Listen address; `127.0.0.1` keeps a local stack private."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Listen port."""
    fd: int | None = Field(default=None, ge=0)
    """An inherited, already listening socket to serve instead of binding host:port.
    `make run` holds the gateway's socket itself, so while a crashed gateway restarts
    callers wait in the kernel's queue instead of being refused."""
    keepalive_seconds: int = Field(default=5, ge=1, le=300)
    """Idle keep-alive of client connections."""
    graceful_timeout_seconds: int = Field(default=30, ge=1, le=600)
    """Time in-flight requests get to finish after SIGTERM."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """When set, `/metrics` answers on this port only, and only `/metrics` does, so a
    public route to the main port (an Ingress) never exposes it."""

    @model_validator(mode="after")
    def _metrics_port_differs(self) -> ServerSettings:
        if self.metrics_port == self.port:
            raise ValueError(f"metrics_port ({self.metrics_port}) must differ from port")
        return self


class UpstreamSettings(BaseModel):
    """The one long-lived HTTP client towards the model services."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    connect_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    """TCP connect timeout; short, because a refused or silent service is retried elsewhere."""
    max_connections: int = Field(default=256, ge=1, le=10_000)
    """Pool size across all services."""
    keepalive_expiry_seconds: float = Field(default=4.0, gt=0, le=300)
    """Idle lifetime of a pooled connection; below the services' 5 s keep-alive so the
    gateway closes first and never reuses a connection the server is closing."""
    readiness_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    """Timeout of the `/readyz` probes: `GET /models`, and readmitting ejected versions."""


class EjectSettings(BaseModel):
    """Passive health checking: a version that keeps failing sits out a cool-down."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    failures: int = Field(default=3, ge=1, le=1000)
    """Consecutive connect errors, 502, 503 or timeouts that eject a version."""
    cooldown_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How long an ejected version gets no routed traffic before it is tried again."""


class ShadowSettings(BaseModel):
    """Bounds on fire-and-forget shadow copies."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    max_inflight: int = Field(default=64, ge=1, le=10_000)
    """Shadow requests in flight at once; beyond this copies are dropped, never queued,
    so a slow shadow version cannot build up memory in the gateway."""


class GatewaySettings(BaseSettings):
    """All gateway configuration; built once in `create_app`, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="MODELFLEET_",
        env_nested_delimiter="__",
        extra="ignore",
        use_attribute_docstrings=True,
    )

    routes_file: Path = Path("/etc/modelfleet/routes/routes.yaml")
    """routes.yaml; its directory is watched, so mount a ConfigMap as a directory (no subPath)."""
    api_keys_file: Path | None = None
    """File with one sha256 hex digest of a valid key per line; unset turns auth off."""
    guard_state_file: Path | None = None
    """Writable file where the guard records the canaries it holds out, so a restarted
    gateway keeps them out until the routes change; unset keeps them in memory only."""
    max_body_bytes: int = Field(default=MIB, ge=1024, le=1024 * MIB)
    """Largest request body forwarded; larger ones get 413 before any upstream call."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level of the JSON logs."""
    server: ServerSettings = ServerSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    eject: EjectSettings = EjectSettings()
    shadow: ShadowSettings = ShadowSettings()

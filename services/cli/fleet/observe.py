"""A local Prometheus that scrapes the running stack with modelfleet's rules loaded.

`make observe` (`modelfleet up --observe`) starts one beside the local stack:
Debian's `prometheus` binary in the foreground of its own session on
127.0.0.1, a throw-away TSDB under the stack's state directory, one scrape job
for the gateway and one for the model services.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from .supervisor import Child, Console, port_is_free, spawn

__all__ = ["RULES", "ObserveError", "ScrapeTargets", "prometheus_config", "start_observer"]

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "charts" / "gateway" / "files" / "rules" / "modelfleet-rules.yaml"
READY_TIMEOUT_SECONDS = 30.0


class ObserveError(RuntimeError):
    """Prometheus cannot start; the message says what to do."""


@dataclass(frozen=True)
class ScrapeTargets:
    """`host:port` of the gateway and of every model service."""

    gateway: str
    models: tuple[str, ...]


def prometheus_config(
    targets: ScrapeTargets, *, rules: Path = RULES, interval_seconds: float = 1.0
) -> dict[str, Any]:
    """prometheus.yml for the local stack; `job` tells gateway and model series apart."""
    interval = f"{round(interval_seconds * 1000)}ms"
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules.resolve())],
        "scrape_configs": [
            {
                "job_name": "modelfleet-gateway",
                "static_configs": [{"targets": [targets.gateway]}],
            },
            {
                "job_name": "modelfleet-model",
                "static_configs": [{"targets": list(targets.models)}],
            },
        ],
    }


def prometheus_argv(binary: str, workdir: Path, port: int) -> list[str]:
    return [
        binary,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1d",
        "--log.level=warn",  # the stack's console shows problems, not start-up chatter
    ]


def _wait_ready(child: Child, url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise ObserveError(f"prometheus exited with code {child.process.returncode}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ObserveError(f"prometheus at {url} not ready after {READY_TIMEOUT_SECONDS:g}s")


def start_observer(targets: ScrapeTargets, workdir: Path, port: int, console: Console) -> Child:
    """Start Prometheus scraping `targets` on 127.0.0.1:`port`; return once it is ready.

    The caller owns the returned child and stops it with the rest of the stack.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        raise ObserveError("prometheus is not installed: `make .tools/apt.stamp` installs it")
    if not port_is_free(port):
        raise ObserveError(
            f"port {port} is in use; pick another: make observe PROMETHEUS_PORT=9091"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_dump(prometheus_config(targets), sort_keys=False)
    (workdir / "prometheus.yml").write_text(config, encoding="utf-8")
    child = spawn("prometheus", prometheus_argv(binary, workdir, port), {}, console)
    try:
        _wait_ready(child, f"http://127.0.0.1:{port}")
    except ObserveError:
        child.process.kill()
        child.process.wait()
        raise
    return child

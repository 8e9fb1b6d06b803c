"""A local Prometheus that scrapes the running stack with modelfleet's rules loaded.

`make observe` (`modelfleet up --observe`) runs one beside the local stack, as
one more supervised child: Debian's `prometheus` binary in the foreground on
127.0.0.1, a throw-away TSDB under the stack's state directory, one scrape job
for the gateway and one for the model services.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .ports import port_is_free

__all__ = ["RULES", "ObserveError", "ScrapeTargets", "observer_command", "prometheus_config"]

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "charts" / "gateway" / "files" / "rules" / "modelfleet-rules.yaml"


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


def observer_command(targets: ScrapeTargets, workdir: Path, port: int) -> list[str]:
    """The command of a Prometheus scraping `targets` on 127.0.0.1:`port` (ready when
    `/-/ready` answers 200), its configuration written under `workdir`."""
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
    return prometheus_argv(binary, workdir, port)

"""A local Prometheus that scrapes the running stack with modelfleet's rules loaded.

`make observe` (`modelfleet up --observe`) starts one beside the local stack,
and the Prometheus end-to-end test starts one the same way. It runs in the
foreground of its own process group on 127.0.0.1 with a throw-away TSDB; the
Debian `prometheus` package provides the binary.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

__all__ = ["RULES", "Prometheus", "ScrapeTargets", "prometheus_config"]

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "gateway" / "files" / "rules" / "modelfleet-rules.yaml"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


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


class Prometheus:
    """One Prometheus server process on 127.0.0.1:`port`; use as a context manager."""

    def __init__(
        self, config: dict[str, Any], *, port: int, workdir: Path, binary: str = ""
    ) -> None:
        self.config = config
        self.port = port
        self.workdir = workdir
        self.binary = binary or shutil.which("prometheus") or ""
        if not self.binary:
            raise FileNotFoundError(
                "prometheus is not installed: `make .tools/apt.stamp` installs the Debian package"
            )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "prometheus.log"

    def start(self) -> Prometheus:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_file = self.workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(self.config, sort_keys=False))
        command = [
            self.binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1d",
        ]
        with self.log.open("wb") as sink:
            # Its own session, so stopping it never signals the caller's group.
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready after {READY_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Prometheus:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

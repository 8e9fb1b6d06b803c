"""The local Prometheus of `make observe`: config, rules loaded, targets scraped."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from services.cli.fleet.children import Console
from services.cli.fleet.observe import (
    RULES,
    ObserveError,
    ScrapeTargets,
    observer_command,
    prometheus_config,
)
from services.cli.fleet.supervisor import Supervisor
from tests.processes import free_port
from tests.tools import require_tool


def query(url: str, promql: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
    result: list[dict[str, object]] = answer["data"]["result"]
    return result


@contextmanager
def socket_bound() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_config_scrapes_gateway_and_models_as_separate_jobs_with_the_rules() -> None:
    targets = ScrapeTargets("127.0.0.1:8000", ("127.0.0.1:8101", "127.0.0.1:8102"))
    config = prometheus_config(targets, interval_seconds=0.5)
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {
        "modelfleet-gateway": ["127.0.0.1:8000"],
        "modelfleet-model": ["127.0.0.1:8101", "127.0.0.1:8102"],
    }
    assert config["global"]["scrape_interval"] == "500ms"
    assert config["rule_files"] == [str(RULES.resolve())]


def test_observer_loads_the_rules_and_scrapes_its_targets(tmp_path: Path) -> None:
    require_tool("prometheus")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    console_output = io.StringIO()
    supervisor = Supervisor(Console(console_output))
    # Prometheus scrapes itself as the "gateway": a real target without the stack.
    argv = observer_command(ScrapeTargets(f"127.0.0.1:{port}", ()), tmp_path, port)
    supervisor.start("prometheus", argv, {}, f"{url}/-/ready")
    try:
        supervisor.wait_ready(30, threading.Event())
        groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {group["name"] for group in groups} == {"modelfleet.recording", "modelfleet.alerts"}
        deadline = time.monotonic() + 20
        while not query(url, 'up{job="modelfleet-gateway"} == 1'):
            assert time.monotonic() < deadline, console_output.getvalue()[-2000:]
            time.sleep(0.5)
    finally:
        supervisor.stop()
    with pytest.raises(httpx.ConnectError):  # stopped: nothing listens any more
        httpx.get(f"{url}/-/ready", timeout=5)
    assert "[prometheus]" in console_output.getvalue()


def test_observer_refuses_a_port_in_use(tmp_path: Path) -> None:
    require_tool("prometheus")
    with socket_bound() as port, pytest.raises(ObserveError, match=f"port {port} is in use"):
        observer_command(ScrapeTargets("127.0.0.1:1", ()), tmp_path, port)

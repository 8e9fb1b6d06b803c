"""The local Prometheus of `make observe`: config, rules loaded, targets scraped."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from services.runtime.observe import RULES, Prometheus, ScrapeTargets, prometheus_config
from tests.conftest import free_port
from tests.tools import require_tool


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


def test_prometheus_loads_the_rules_and_scrapes_its_targets(tmp_path: Path) -> None:
    port = free_port()
    # Prometheus scrapes itself as the "gateway": a real target without the stack.
    targets = ScrapeTargets(f"127.0.0.1:{port}", ())
    config = prometheus_config(targets)
    with Prometheus(config, port=port, workdir=tmp_path, binary=require_tool("prometheus")) as prom:
        groups = httpx.get(f"{prom.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {group["name"] for group in groups} == {"modelfleet.recording", "modelfleet.alerts"}
        deadline = time.monotonic() + 20
        up: list[object] = []
        while not up and time.monotonic() < deadline:
            query = {"query": 'up{job="modelfleet-gateway"} == 1'}
            up = httpx.get(f"{prom.url}/api/v1/query", params=query, timeout=5).json()["data"][
                "result"
            ]
            time.sleep(0.5)
        assert up, prom.log.read_text()[-2000:]
    assert prom.process is not None and prom.process.poll() is not None

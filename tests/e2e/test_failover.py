"""Killing a real iris service under load: failover, a clear 503, self-recovery."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from services.cli.serve import gunicorn_command, serve_environment
from tests.processes import (
    Server,
    free_port,
    launch,
    python_module,
    stop_server,
    wait_ready,
    wait_until,
)
from tests.traffic import Load, send_many

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def start_iris(version: str, port: int, registry: Path, logs: Path) -> Server:
    env = serve_environment("iris", version, port, host="127.0.0.1", workers=1, registry=registry)
    server = launch(f"iris-{version}", lambda _: gunicorn_command(), logs, env, port=port)
    return wait_ready(server, timeout=120)


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, registry_root: Path
) -> Iterator[dict[str, Server]]:
    logs = tmp_path_factory.mktemp("failover")
    servers = {v: start_iris(v, free_port(), registry_root, logs) for v in ("v1", "v2")}
    routes = logs / "routes" / "routes.yaml"
    routes.parent.mkdir()
    versions = {v: {"url": s.url, "weight": 50} for v, s in servers.items()}
    routes.write_text(yaml.safe_dump({"models": {"iris": {"versions": versions, "retries": 1}}}))
    port = free_port()
    env = {"MODELFLEET_ROUTES_FILE": str(routes), "MODELFLEET_SERVER__HOST": "127.0.0.1",
           "MODELFLEET_SERVER__PORT": str(port)}  # fmt: skip
    gateway = launch("gateway", lambda _: python_module("gateway"), logs, env, port=port)
    servers["gateway"] = wait_ready(gateway)
    try:
        yield servers
    finally:
        for server in servers.values():
            stop_server(server)


def test_killing_a_version_under_load_fails_over_with_zero_client_errors(
    fleet: dict[str, Server],
) -> None:
    url = fleet["gateway"].url + "/models/iris/predict"
    load = Load(url, 100_000, FLOWER, concurrency=4, pause=0.01, seconds=6.0)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(send_many, load)
        time.sleep(2.0)
        stop_server(fleet["v2"], signal.SIGKILL)  # no draining: connections just die
        traffic = running.result()
    assert traffic.failures == []
    assert traffic.versions(until=1.5)["v2"] > 0  # v2 was serving before the kill
    assert set(traffic.versions(since=3.0)) == {"v1"}


def test_with_no_version_left_errors_are_clear_json_and_recovery_is_automatic(
    fleet: dict[str, Server], registry_root: Path, tmp_path: Path
) -> None:
    url = fleet["gateway"].url + "/models/iris/predict"
    for version in ("v1", "v2"):  # v2 is already dead when the test above ran first
        stop_server(fleet[version], signal.SIGKILL)
    for _ in range(3):
        down = httpx.post(url, json=FLOWER)
        assert down.status_code == 503 and set(down.json()["reasons"]) == {"v1", "v2"}
        assert down.json()["error"].startswith("no version of model 'iris' can answer now: ")
        assert "Traceback" not in down.text
    fleet["v1"] = start_iris("v1", fleet["v1"].port, registry_root, tmp_path)
    probe = httpx.post(url, json=FLOWER)
    if probe.status_code == 503:  # both still ejected: Retry-After says when v1 is tried again
        assert set(probe.json()["reasons"]) == {"v1", "v2"}
        time.sleep(int(probe.headers["retry-after"]))
    # Readmission waits for a /readyz probe; on a loaded machine it can land a
    # little after Retry-After, so allow for that rather than race it.
    wait_until(lambda: httpx.post(url, json=FLOWER).status_code == 200, 30, "v1 readmitted")
    back = send_many(Load(url, 20, FLOWER, concurrency=2))  # v2 is still dead: v1 must serve
    assert back.failures == [] and back.versions() == {"v1": 20}

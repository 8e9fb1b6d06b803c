"""The app factory: no module-level state, and a clear refusal to start without routes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

import gateway
from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.processes import launch, python_module, wait_until

ROUTES = {"models": {"iris": {"versions": {"v1": {"url": "http://127.0.0.1:9", "weight": 100}}}}}


def test_the_package_exports_the_factory_and_settings() -> None:
    assert gateway.__all__ == ["GatewaySettings", "create_app"]


def test_two_apps_in_one_process_keep_separate_tables_and_metrics(tmp_path: Path) -> None:
    files = []
    for name in ("a", "b"):
        routes = {"models": {name: ROUTES["models"]["iris"]}}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(routes))
        files.append(tmp_path / f"{name}.yaml")
    apps = [create_app(GatewaySettings(routes_file=f)) for f in files]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        assert first.post("/models/b/predict").status_code == 404
        assert second.post("/models/a/predict").status_code == 404
        assert 'model="a"' in first.get("/metrics").text
        assert 'model="a"' not in second.get("/metrics").text


def test_a_gateway_without_a_valid_routes_file_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text("models: {iris: {versions: {}}}\n")
    env = {"MODELFLEET_ROUTES_FILE": str(tmp_path / "routes.yaml"),
           "MODELFLEET_SERVER__HOST": "127.0.0.1"}  # fmt: skip
    server = launch("gateway", lambda _: python_module("gateway"), tmp_path, env)
    wait_until(lambda: server.process.poll() is not None, 30, "the gateway to exit")
    assert server.process.returncode != 0
    assert "cannot start: routes file" in server.output()
    assert "models.iris.versions: Dictionary should have at least 1 item" in server.output()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_without_any_upstream(tmp_path: Path, path: str) -> None:
    (tmp_path / "routes.yaml").write_text(yaml.safe_dump(ROUTES))
    with TestClient(create_app(GatewaySettings(routes_file=tmp_path / "routes.yaml"))) as client:
        assert client.get(path).status_code == 200

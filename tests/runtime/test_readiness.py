"""Readiness gates on load + warm-up; liveness never touches the model."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ConfigDict

from services.runtime import workers
from services.runtime.app import create_app
from services.runtime.model import Model, Schema
from services.runtime.registry import Registry
from services.runtime.settings import RuntimeSettings
from tests.conftest import ServeModel
from tests.processes import child_pids, stop_server, wait_until
from tests.scrape import samples, value

IRIS_ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


class Number(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"x": 1.0}]})
    x: float


class Doubled(Schema):
    y: float


class GatedModel(Model[Number, Doubled]):
    """Loads only when the test opens the gate; can be told to fail its warm-up."""

    name = "gated"
    framework = "test"
    Input = Number
    Output = Doubled

    def __init__(self, gate: threading.Event, fail_warmup: bool = False) -> None:
        super().__init__()
        self.gate = gate
        self.fail_warmup = fail_warmup

    def load(self, path: Path) -> None:
        self.gate.wait(timeout=30)

    def predict(self, batch: list[Number]) -> list[Doubled]:
        if self.fail_warmup:
            raise ValueError("warm-up exploded")
        return [Doubled(y=2 * item.x) for item in batch]


def settings_for(name: str, registry_root: Path) -> RuntimeSettings:
    """Settings for a test model `name`, with a v1 artifact published for it."""
    registry = Registry(registry_root)
    with registry.staging(name) as staged:
        (staged / "weights").write_text("w")
        registry.publish(name, staged, framework="test")
    return RuntimeSettings(model=name, version="v1", registry=registry_root)


@pytest.fixture
def settings(tmp_path: Path) -> RuntimeSettings:
    return settings_for("gated", tmp_path)


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_not_ready_until_loaded_and_warmed_while_alive(settings: RuntimeSettings) -> None:
    gate = threading.Event()
    with TestClient(create_app(settings, GatedModel(gate))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        loading = client.get("/readyz")
        assert loading.status_code == 503 and loading.headers["retry-after"] == "5"
        assert loading.json()["reason"] == "loading"
        assert client.get("/v2/health/ready").status_code == 400
        refused = client.post("/v1/models/gated/predict", json={"x": 2})
        assert refused.status_code == 503 and "still loading" in refused.json()["error"]
        gate.set()
        wait_for(lambda: client.get("/readyz").status_code == 200)
        assert client.post("/v1/models/gated/predict", json={"x": 2}).json()["predictions"] == [
            {"y": 4.0}
        ]
        assert client.get("/v2/health/ready").status_code == 200


def test_failed_warmup_keeps_the_version_unready_with_the_reason(settings: RuntimeSettings) -> None:
    gate = threading.Event()
    gate.set()
    with TestClient(create_app(settings, GatedModel(gate, fail_warmup=True))) as client:
        wait_for(
            lambda: (
                "reason" in client.get("/readyz").json()
                and client.get("/readyz").json()["reason"] != "loading"
            )
        )
        body = client.get("/readyz").json()
        assert body["ready"] is False and "warm-up exploded" in body["reason"]
        assert client.get("/healthz").status_code == 200


def test_a_tampered_artifact_never_becomes_ready_and_logs_why(
    serve_model: ServeModel, scratch_registry: Callable[..., Registry]
) -> None:
    registry = scratch_registry("iris")
    artifact = registry.root / "iris" / "v1" / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    service = serve_model("iris", "v1", registry=registry.root, wait="/healthz")
    wait_for(lambda: "altered" in service.output(), timeout=30)
    response = httpx.get(service.url + "/readyz")
    assert response.status_code == 503
    assert "does not match its manifest (altered: model.joblib)" in response.json()["reason"]
    assert "will never become ready" in service.output()
    predict = httpx.post(service.url + "/v1/models/iris/predict", json={})
    assert predict.status_code in (422, 503)  # never a 500, never an answer from a bad artifact


def ready_gauge(exposition: str) -> float:
    [family] = [f for f in text_string_to_metric_families(exposition) if f.name.endswith("ready")]
    [sample] = family.samples
    return sample.value


def test_a_loaded_worker_is_not_ready_while_a_sibling_loads(
    settings: RuntimeSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server is ready once every worker is: this one serves, the probe waits."""
    ready_dir = tmp_path / "ready"
    ready_dir.mkdir()
    workers.set_count(ready_dir, 2)
    monkeypatch.setenv(workers.DIRECTORY_ENV, str(ready_dir))
    gate = threading.Event()
    gate.set()
    with TestClient(create_app(settings, GatedModel(gate))) as client:
        wait_for(lambda: client.get("/readyz").json()["reason"] != "loading")
        probe = client.get("/readyz")
        assert probe.status_code == 503
        assert probe.json()["reason"] == "1 of 2 workers still loading"
        assert client.get("/v2/health/ready").status_code == 400
        assert client.get("/v1/models/gated").json()["ready"] is False
        assert "modelfleet_model_ready" in (metrics := client.get("/metrics").text)
        assert ready_gauge(metrics) == 0
        assert client.post("/v1/models/gated/predict", json={"x": 2}).status_code == 200
        sibling = workers.WorkerReadiness(ready_dir, pid=1)
        sibling.mark(ready=True)
        assert client.get("/readyz").json()["ready"] is True
        assert client.get("/v2/models/gated/ready").status_code == 200
        assert ready_gauge(client.get("/metrics").text) == 1
        workers.forget(ready_dir, pid=1)  # the master reaped it; its successor loads
        assert client.get("/readyz").json()["reason"] == "1 of 2 workers still loading"
    assert list(ready_dir.glob("*.ready")) == []  # a stopped worker takes its marker away


def test_gunicorn_is_unready_until_a_replaced_worker_has_loaded(
    serve_model: ServeModel, tmp_path: Path
) -> None:
    parent = tmp_path / "shared"
    server = serve_model("iris", "v1", workers=2, env={"MODELFLEET_METRICS_DIR": str(parent)})
    [shared] = parent.glob("modelfleet-iris-v1-*")
    assert len(list((shared / "ready").glob("*.ready"))) == 2

    def predictions() -> list[int]:  # new connections, so both workers take some
        return [
            httpx.post(server.url + "/v1/models/iris/predict", json=IRIS_ROW).status_code
            for _ in range(20)
        ]

    def probe() -> httpx.Response:
        return httpx.get(server.url + "/readyz")

    assert predictions() == [200] * 20  # ready means every worker answers
    victim = child_pids(server.process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: probe().status_code == 503, 10, "the server to see the lost worker")
    reasons = []
    while (answer := probe()).status_code != 200:
        reasons.append(answer.json()["reason"])
        # Readiness only grows here: a scrape saying ready means the next probe is 200.
        gauge = value(samples(server.url), "modelfleet_model_ready")
        assert gauge == 0 or probe().status_code == 200
        assert len(reasons) < 3000, f"never ready again: {reasons[-3:]}"
        time.sleep(0.01)
    assert "1 of 2 workers still loading" in reasons  # said by the worker that survived
    assert set(reasons) <= {"loading", "1 of 2 workers still loading"}
    assert predictions() == [200] * 20
    stop_server(server)
    assert list(parent.iterdir()) == []  # the master removed what its workers shared

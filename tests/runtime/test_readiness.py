"""Readiness gates on load + warm-up; liveness never touches the model."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ConfigDict

from services.runtime.app import create_app
from services.runtime.model import Model, Schema
from services.runtime.registry import Registry
from services.runtime.settings import RuntimeSettings
from tests.conftest import ServeModel


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


@pytest.fixture
def settings(tmp_path: Path) -> RuntimeSettings:
    registry = Registry(tmp_path)
    with registry.staging("gated") as staged:
        (staged / "weights").write_text("w")
        registry.publish("gated", staged, framework="test")
    return RuntimeSettings(model="gated", version="v1", registry=tmp_path)


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

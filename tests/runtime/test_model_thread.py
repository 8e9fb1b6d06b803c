"""All model code runs in one thread, prepared before `load`: never concurrently with
itself, and never on the event loop."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info

from services.runtime.app import create_app
from services.runtime.model import Action, Model
from tests.runtime.test_readiness import Doubled, Number, settings_for, wait_for


class ThreadRecorder(Model[Number, Doubled]):
    """Records which thread runs each call and whether two calls ever overlapped."""

    name = "threads"
    framework = "test"
    Input = Number
    Output = Doubled
    actions = (
        Action(path="double", request=Number, response=Doubled, method="double", summary="x * 2"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []
        self.pools: list[tuple[str, int]] = []
        self.overlaps = 0
        self._running = 0
        self._lock = threading.Lock()

    def _run(self, what: str) -> None:
        with self._lock:
            self.calls.append((what, threading.get_ident()))
            self._running += 1
            self.overlaps += self._running > 1
        time.sleep(0.002)  # long enough for a second thread to walk in, if there were one
        with self._lock:
            self._running -= 1

    def prepare_thread(self) -> None:
        self._run("prepare")

    def load(self, path: Path) -> None:
        self._run("load")

    def predict(self, batch: list[Number]) -> list[Doubled]:
        self._run("predict")
        self.pools = [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()]
        doubled = np.array([item.x for item in batch]) * 2  # numpy brings its BLAS pool
        return [Doubled(y=float(y)) for y in doubled]

    def double(self, request: Number) -> Doubled:
        self._run("double")
        return Doubled(y=2 * request.x)


class HeldModel(Model[Number, Doubled]):
    """Once `hold` is set, predict keeps the model thread until the test releases it."""

    name = "held"
    framework = "test"
    Input = Number
    Output = Doubled

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()

    def load(self, path: Path) -> None:
        pass

    def predict(self, batch: list[Number]) -> list[Doubled]:
        if self.hold:
            self.holding.set()
            self.release.wait(timeout=30)
        return [Doubled(y=2 * item.x) for item in batch]


def test_load_predict_and_actions_share_one_prepared_thread_and_never_overlap(
    tmp_path: Path,
) -> None:
    model = ThreadRecorder()
    with TestClient(create_app(settings_for("threads", tmp_path), model)) as client:
        wait_for(lambda: client.get("/readyz").status_code == 200)

        def ask(i: int) -> float:
            action = "double" if i % 2 else "predict"
            response = client.post(f"/v1/models/threads/{action}", json={"x": i})
            assert response.status_code == 200, response.text
            body = response.json()
            return float(body["y"] if action == "double" else body["predictions"][0]["y"])

        with ThreadPoolExecutor(8) as callers:
            answers = list(callers.map(ask, range(40)))
    assert answers == [2 * i for i in range(40)]
    whats = [what for what, _ in model.calls]
    assert whats[:3] == ["prepare", "load", "predict"]  # prepared, loaded, warmed up, in order
    assert {"predict", "double"} <= set(whats[3:]) and whats.count("prepare") == 1
    assert len({thread for _, thread in model.calls}) == 1
    assert model.overlaps == 0
    # numpy's BLAS (and OpenMP, where loaded) would use every core; the model thread caps them.
    assert model.pools and all(threads == model.torch_threads == 1 for _, threads in model.pools)


def test_probes_and_metrics_answer_while_the_model_thread_is_busy(tmp_path: Path) -> None:
    model = HeldModel()
    with (
        TestClient(create_app(settings_for("held", tmp_path), model)) as client,
        ThreadPoolExecutor(1) as caller,
    ):
        wait_for(lambda: client.get("/readyz").status_code == 200)
        model.hold = True
        busy = caller.submit(client.post, "/v1/models/held/predict", json={"x": 1})
        assert model.holding.wait(10)
        # Inference on the event loop would hold these until the release below.
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert 'modelfleet_inflight_requests{model="held",version="v1"} 1.0' in (
            client.get("/metrics").text
        )
        assert not busy.done()
        model.release.set()
        assert busy.result(timeout=10).json()["predictions"] == [{"y": 2.0}]

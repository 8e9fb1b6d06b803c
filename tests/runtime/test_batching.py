"""Adaptive batching: the batcher on its own, then inside real gunicorn services.

The unit tests hold the model busy on a gate, so which requests share a batch
is decided by the batcher's rules and not by timing. The service tests prove
the same rules over HTTP with the minilm and iris models.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from services.runtime.batching import AdaptiveBatcher, BatchObserver, BatchTiming
from services.runtime.errors import Overloaded
from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.processes import Server
from tests.scrape import samples, value
from tests.services.minilm.reference import Reference

# --- the batcher on its own ------------------------------------------------------------


class GatedModel:
    """Multiplies by 10; while the gate is closed, a call waits in the model thread."""

    def __init__(self, *, open_gate: bool = True, outputs_per_input: int = 1) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.outputs_per_input = outputs_per_input

    def __call__(self, batch: list[int]) -> list[int]:
        self.batches.append(list(batch))
        if not self.gate.wait(10):
            raise TimeoutError("the test never opened the gate")
        if any(item < 0 for item in batch):
            raise ValueError("negative input")
        return [item * 10 for item in batch for _ in range(self.outputs_per_input)]


class Recorder(BatchObserver):
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.waits: list[float] = []

    def batch(self, timing: BatchTiming) -> None:
        self.sizes.append(timing.size)

    def queue_wait(self, seconds: float) -> None:
        self.waits.append(seconds)


def run(scenario: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(scenario, timeout=20))


@asynccontextmanager
async def running(model: GatedModel, **options: Any) -> AsyncIterator[AdaptiveBatcher[int, int]]:
    settings = {"max_batch_size": 4, "max_wait_ms": 0, "max_queue": 64} | options
    with ThreadPoolExecutor(1) as model_thread:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(
            model, executor=model_thread, **settings
        )
        await batcher.start()
        try:
            yield batcher
        finally:
            await batcher.stop()
            model.gate.set()  # a test that left the model busy must not block the shutdown


async def busy(model: GatedModel, batcher: AdaptiveBatcher[int, int]) -> asyncio.Task[list[int]]:
    """Occupy the model (gate closed) with a first request of [0]."""
    first = asyncio.create_task(batcher.submit([0]))
    while not model.batches:
        await asyncio.sleep(0.001)
    return first


def test_lone_request_is_predicted_at_once_without_a_timer() -> None:
    async def scenario() -> None:
        model = GatedModel()
        async with running(model, max_wait_ms=0) as batcher:
            # A batcher that waited for company would hold this request for the 20 s timeout.
            assert await batcher.submit([7]) == [70]
            assert model.batches == [[7]]

    run(scenario())


def test_a_lone_request_on_an_idle_model_is_run_by_its_caller_without_the_worker_task() -> None:
    async def scenario() -> None:
        model = GatedModel()
        with ThreadPoolExecutor(1) as model_thread:
            batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(
                model, executor=model_thread, max_batch_size=4, max_wait_ms=0, max_queue=8
            )
            # Never started: there is no worker task to hand the request to.
            assert await batcher.submit([7]) == [70]
            assert await batcher.submit([1, 2]) == [10, 20]
            assert model.batches == [[7], [1, 2]]

    run(scenario())


def test_after_a_batch_of_several_requests_the_worker_gathers_those_arriving_together() -> None:
    async def scenario() -> None:
        model = GatedModel()
        async with running(model) as batcher:

            async def together(*values: int) -> list[list[int]]:
                return list(await asyncio.gather(*(batcher.submit([v]) for v in values)))

            assert await together(1, 2, 3) == [[10], [20], [30]]  # 1 at once, 2 and 3 wait
            assert await together(4, 5) == [[40], [50]]  # the last call was shared: gathered
            assert await batcher.submit([6]) == [60]  # still via the worker: a batch of one
            assert await together(7, 8) == [[70], [80]]  # 7 at once again
            assert model.batches == [[1], [2, 3], [4, 5], [6], [7], [8]]

    run(scenario())


def test_requests_queued_while_the_model_is_busy_share_batches_up_to_the_limit() -> None:
    async def scenario() -> None:
        model = GatedModel(open_gate=False)
        async with running(model, max_batch_size=4) as batcher:
            first = await busy(model, batcher)
            rest = [asyncio.create_task(batcher.submit([i])) for i in range(1, 10)]
            await asyncio.sleep(0.01)  # every submit is queued
            model.gate.set()
            answers = await asyncio.gather(first, *rest)
            assert answers == [[i * 10] for i in range(10)]
            assert model.batches == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]

    run(scenario())


def test_one_request_may_span_batches_and_keeps_its_order() -> None:
    async def scenario() -> None:
        model = GatedModel()
        async with running(model, max_batch_size=4) as batcher:
            assert await batcher.submit(list(range(1, 7))) == [10, 20, 30, 40, 50, 60]
            # Those batches served one request: the next arrival runs at once, alone.
            together = await asyncio.gather(batcher.submit([7]), batcher.submit([8]))
            assert together == [[70], [80]]
            assert model.batches == [[1, 2, 3, 4], [5, 6], [7], [8]]

    run(scenario())


def test_max_wait_lets_a_late_request_join_and_a_full_batch_closes_early() -> None:
    async def scenario() -> None:
        model = GatedModel()
        # The 60 s window never expires here: the batch closes when it reaches 2.
        async with running(model, max_batch_size=2, max_wait_ms=60_000) as batcher:
            early = asyncio.create_task(batcher.submit([1]))
            await asyncio.sleep(0.05)
            assert not early.done()  # held back by the window, waiting for company
            assert await batcher.submit([2]) == [20]
            assert await early == [10]
            assert model.batches == [[1, 2]]

    run(scenario())


def test_full_queue_fails_fast_with_retry_after() -> None:
    async def scenario() -> None:
        model = GatedModel(open_gate=False)
        async with running(model, max_queue=3) as batcher:
            first = await busy(model, batcher)
            queued = [asyncio.create_task(batcher.submit([i])) for i in (1, 2, 3)]
            await asyncio.sleep(0.01)
            for items in ([4], [5, 6, 7, 8]):
                with pytest.raises(Overloaded) as refused:
                    await batcher.submit(items)
                assert (refused.value.status_code, refused.value.retry_after) == (503, 1)
                assert "queue is full (3 waiting, limit 3)" in refused.value.message
            model.gate.set()
            assert await asyncio.gather(first, *queued) == [[0], [10], [20], [30]]
            assert await batcher.submit([4]) == [40]  # room again once the queue drained

    run(scenario())


def test_model_error_reaches_every_caller_of_its_batch_only() -> None:
    async def scenario() -> None:
        model = GatedModel(open_gate=False)
        async with running(model) as batcher:
            first = await busy(model, batcher)
            shared = [asyncio.create_task(batcher.submit([i])) for i in (1, -1)]
            await asyncio.sleep(0.01)
            model.gate.set()
            assert await first == [0]
            for task in shared:
                with pytest.raises(ValueError, match="negative input"):
                    await task
            assert await batcher.submit([3]) == [30]  # the batcher goes on

    run(scenario())


def test_wrong_number_of_outputs_fails_the_batch() -> None:
    async def scenario() -> None:
        async with running(GatedModel(outputs_per_input=2)) as batcher:
            with pytest.raises(RuntimeError, match="returned 2 outputs for 1 inputs"):
                await batcher.submit([1])

    run(scenario())


def test_a_caller_that_went_away_is_left_out_of_the_batch() -> None:
    async def scenario() -> None:
        model = GatedModel(open_gate=False)
        async with running(model) as batcher:
            first = await busy(model, batcher)
            gone = asyncio.create_task(batcher.submit([1]))
            stays = asyncio.create_task(batcher.submit([2]))
            await asyncio.sleep(0.01)
            gone.cancel()
            model.gate.set()
            assert await asyncio.gather(first, stays) == [[0], [20]]
            assert model.batches == [[0], [2]]

    run(scenario())


def test_many_concurrent_callers_each_get_their_own_answers() -> None:
    async def scenario() -> None:
        recorder = Recorder()
        model = GatedModel()
        async with running(model, max_batch_size=8, max_queue=1000, observer=recorder) as batcher:
            requests = [list(range(n * 100, n * 100 + n % 5 + 1)) for n in range(150)]
            answers = await asyncio.gather(*(batcher.submit(r) for r in requests))
            assert answers == [[i * 10 for i in r] for r in requests]
            assert sum(recorder.sizes) == sum(map(len, requests)) == len(recorder.waits)
            assert max(recorder.sizes) == 8 and all(w >= 0 for w in recorder.waits)

    run(scenario())


# --- inside real services ----------------------------------------------------------------

EMBED = "/v1/models/minilm/predict"
IRIS = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
# 256+ word pieces: the longest pass the model runs, so requests pile up behind it.
LONG_TEXT = "Batching keeps the model busy while requests keep arriving. " * 30


async def _post_all(url: str, path: str, bodies: Sequence[Any]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        return await asyncio.gather(*(client.post(path, json=body) for body in bodies))


def post_all(url: str, path: str, bodies: Sequence[Any]) -> list[httpx.Response]:
    """Send every body at once, each on its own connection."""
    return asyncio.run(_post_all(url, path, bodies))


@pytest.fixture(scope="module")
def minilm(serve_model_module: ServeModel) -> Server:
    return serve_model_module(
        "minilm", "v1",
        env={"MODELFLEET_BATCHING__MAX_BATCH_SIZE": "32", "MODELFLEET_BATCHING__MAX_WAIT_MS": "0",
             "MODELFLEET_TORCH_THREADS": "1"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(registry_root: Path) -> Reference:
    path, _ = Registry(registry_root).open("minilm", "v1")
    return Reference(path)


def batches(server: Server, model: str) -> tuple[float, float, float]:
    """(batches run, instances predicted, batches of exactly one) so far."""
    metrics = samples(server.url)
    size = "modelfleet_batch_size"
    return (
        value(metrics, f"{size}_count", model=model),
        value(metrics, f"{size}_sum", model=model),
        value(metrics, f"{size}_bucket", model=model, le="1.0"),
    )


def test_32_concurrent_callers_share_batches_and_each_gets_its_own_embedding(
    minilm: Server, reference: Reference
) -> None:
    texts = [f"Request {i} asks about topic {i * 7 % 13} in {i % 5 + 1} words." for i in range(32)]
    runs, instances, singles = batches(minilm, "minilm")
    responses = post_all(minilm.url, EMBED, [{"text": t} for t in texts])
    assert [r.status_code for r in responses] == [200] * 32
    got = np.array([r.json()["predictions"][0]["embedding"] for r in responses])
    np.testing.assert_allclose(got, reference.embed(texts), rtol=0, atol=1e-5)
    runs_after, instances_after, singles_after = batches(minilm, "minilm")
    assert instances_after - instances == 32
    batched = (runs_after - runs) - (singles_after - singles)
    assert batched >= 1, "no batch held more than one request"
    assert runs_after - runs < 32


def test_probes_and_metrics_answer_while_minilm_is_saturated(minilm: Server) -> None:
    """The real service under real load; `test_model_thread` proves the same with a
    model held busy for as long as the test likes (no latency threshold either way)."""

    async def scenario() -> None:
        load = asyncio.create_task(_post_all(minilm.url, EMBED, [{"text": LONG_TEXT}] * 40))
        async with httpx.AsyncClient(base_url=minilm.url, timeout=30) as probe:
            while value(samples(minilm.url), "modelfleet_inflight_requests", model="minilm") < 32:
                await asyncio.sleep(0.02)
            for _ in range(5):
                assert (await probe.get("/healthz")).status_code == 200
            assert (await probe.get("/readyz")).status_code == 200
            assert (await probe.get("/metrics")).status_code == 200
            assert not load.done(), "the load ended before the probes: not saturated"
        assert {r.status_code for r in await load} == {200}

    asyncio.run(scenario())


def test_full_queue_answers_503_with_retry_after_then_recovers(serve_model: ServeModel) -> None:
    server = serve_model(
        "minilm", "v1",
        env={"MODELFLEET_BATCHING__MAX_QUEUE": "2", "MODELFLEET_BATCHING__MAX_BATCH_SIZE": "1",
             "MODELFLEET_MAX_INSTANCES": "2", "MODELFLEET_TORCH_THREADS": "1"},
    )  # fmt: skip
    responses = post_all(server.url, EMBED, [{"text": LONG_TEXT}] * 16)
    refused = [r for r in responses if r.status_code == 503]
    assert refused, "16 slow requests never overflowed a queue of 2"
    assert {r.status_code for r in responses} == {200, 503}
    for response in refused:
        assert response.headers["retry-after"] == "1"
        assert "inference queue is full" in response.json()["error"]
    assert httpx.post(server.url + EMBED, json={"text": "again"}, timeout=30).status_code == 200


def lone_requests(server: Server, count: int = 5) -> tuple[float, float, float]:
    """Send `count` requests one after another: (fastest s, queue waits observed,
    queue waits under 250 ms)."""
    seconds = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(count):
            start = time.perf_counter()
            assert client.post("/v1/models/iris/predict", json=IRIS).status_code == 200
            seconds.append(time.perf_counter() - start)
    metrics = samples(server.url)
    return (
        min(seconds),
        value(metrics, "modelfleet_queue_wait_seconds_count"),
        value(metrics, "modelfleet_queue_wait_seconds_bucket", le="0.25"),
    )


def test_a_lone_request_waits_for_max_wait_only_when_it_is_set(serve_model: ServeModel) -> None:
    no_window = serve_model("iris", "v1", env={"MODELFLEET_BATCHING__MAX_WAIT_MS": "0"})
    window = serve_model("iris", "v1", env={"MODELFLEET_BATCHING__MAX_WAIT_MS": "500"})
    # With no window a lone request goes straight to the model (generous 250 ms bound) ...
    waited, quick = lone_requests(no_window)[1:]
    assert (waited, quick) == (5, 5)
    # ... with a 500 ms window every lone request sits out the whole window.
    fastest, waited, quick = lone_requests(window)
    assert (waited, quick) == (5, 0) and fastest >= 0.5

"""Metrics are exact across gunicorn workers and survive a worker's death."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import ServeModel
from tests.processes import child_pids, wait_until
from tests.scrape import samples, value

GOOD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
BAD = GOOD | {"petal_width": -1.0}


def drive(url: str, good: int, bad: int) -> None:
    bodies = [GOOD] * good + [BAD] * bad
    with httpx.Client(base_url=url) as client, ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda b: client.post("/v1/models/iris/predict", json=b).status_code, bodies)
        )
    assert codes.count(200) == good and codes.count(422) == bad


def test_counts_are_exact_over_two_workers_and_survive_a_killed_worker(
    serve_model: ServeModel,
) -> None:
    server = serve_model("iris", "v1", workers=2)
    for _ in range(20):  # probes and scrapes are not traffic
        httpx.get(server.url + "/healthz")
        httpx.get(server.url + "/readyz")
    drive(server.url, good=60, bad=15)
    before = samples(server.url)
    assert value(before, "modelfleet_requests_total", handler="predict", code="200") == 60
    assert value(before, "modelfleet_requests_total", handler="predict", code="422") == 15
    assert value(before, "modelfleet_request_duration_seconds_count", handler="predict") == 75
    assert value(before, "modelfleet_requests_total", handler="healthz") == 0
    # Every instance passed through the batcher once; batches hold one or more.
    assert value(before, "modelfleet_batch_size_sum") == 60
    assert value(before, "modelfleet_queue_wait_seconds_count") == 60
    assert value(before, "modelfleet_inference_duration_seconds_count") == value(
        before, "modelfleet_batch_size_count"
    )
    info = [labels for (name, labels) in before if name == "modelfleet_model_info"]
    assert len(info) == 1 and dict(info[0])["framework"] == "scikit-learn"

    victim = child_pids(server.process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: len(pids := child_pids(server.process.pid)) == 2 and victim not in pids,
        30, "gunicorn to replace the killed worker",
    )  # fmt: skip
    wait_until(lambda: httpx.get(server.url + "/readyz").status_code == 200, 30, "readiness")
    assert value(samples(server.url), "modelfleet_model_ready") == 1
    drive(server.url, good=40, bad=5)
    after = samples(server.url)
    assert value(after, "modelfleet_requests_total", handler="predict", code="200") == 100
    assert value(after, "modelfleet_requests_total", handler="predict", code="422") == 20
    assert value(after, "modelfleet_request_duration_seconds_count", handler="predict") == 120
    assert value(after, "modelfleet_inflight_requests") == 0  # the dead worker's gauge is gone
    assert len([n for (n, _) in after if n == "modelfleet_model_info"]) == 1


def test_counts_stay_exact_over_two_workers_under_concurrent_load(
    serve_model: ServeModel,
) -> None:
    """32 keep-alive connections at once, as the benchmark drives them: every request is
    counted once in the scrape merged over both workers, and no two get the same id."""
    server = serve_model("iris", "v1", workers=2)
    connections, each = 32, 12

    def one_connection(number: int) -> list[httpx.Response]:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return [
                client.post("/v1/models/iris/predict", json=BAD if (number + i) % 4 == 0 else GOOD)
                for i in range(each)
            ]

    with ThreadPoolExecutor(connections) as pool:
        answers = [a for answers in pool.map(one_connection, range(connections)) for a in answers]
    codes = [answer.status_code for answer in answers]
    assert len({answer.headers["x-request-id"] for answer in answers}) == len(answers)
    bad = sum(1 for n in range(connections) for i in range(each) if (n + i) % 4 == 0)
    assert (codes.count(422), codes.count(200)) == (bad, connections * each - bad)
    good, total = codes.count(200), len(codes)
    after = samples(server.url)
    assert value(after, "modelfleet_requests_total", handler="predict", code="200") == good
    assert value(after, "modelfleet_requests_total", handler="predict", code="422") == bad
    assert value(after, "modelfleet_request_duration_seconds_count", handler="predict") == total
    assert value(after, "modelfleet_batch_size_sum") == good
    assert value(after, "modelfleet_inflight_requests") == 0


def test_metrics_start_from_zero_on_every_start(serve_model: ServeModel) -> None:
    first = serve_model("iris", "v1")
    drive(first.url, good=5, bad=0)
    first_value = value(samples(first.url), "modelfleet_requests_total", code="200")
    second = serve_model("iris", "v1")
    assert first_value == 5
    assert value(samples(second.url), "modelfleet_requests_total", code="200") == 0

"""SIGTERM, as the kubelet sends it after the preStop hook: a model container
finishes the request in flight, stops taking new ones and exits cleanly within
the grace period the chart gives it; so does the gateway."""

from __future__ import annotations

import http.client
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.charts.helm import Manifest
from tests.containers.answers import request_for
from tests.containers.conftest import MODEL_VERSIONS, KubeletFor, gateway_workload, model_workload
from tests.containers.kubelet import Pod
from tests.processes import wait_until
from tests.scrape import samples, value

pytestmark = pytest.mark.slow
# One version per model: the versions of a model share its image.
FIRST_VERSIONS = list(dict(reversed(MODEL_VERSIONS)).items())[::-1]


@pytest.fixture(scope="module")
def spares(rendered: list[Manifest], kubelet_for: KubeletFor) -> dict[str, Pod]:
    """A pod of every image, apart from the fleet, to be stopped: started together."""
    kubelet = kubelet_for(rendered)
    pods = {m: kubelet.start(model_workload(rendered, m, v)) for m, v in FIRST_VERSIONS}
    pods["gateway"] = kubelet.start(gateway_workload(rendered))
    return {name: pod.wait_started() for name, pod in pods.items()}


@pytest.mark.parametrize(("model", "version"), FIRST_VERSIONS, ids=[m for m, _ in FIRST_VERSIONS])
def test_sigterm_drains_the_request_in_flight_and_exits_within_the_grace_period(
    spares: dict[str, Pod], model: str, version: str
) -> None:
    pod = spares[model]
    request = request_for(pod.url(), model)
    prepared = httpx.Request("POST", pod.url() + request.path, **request.body)
    body = prepared.read()
    fields = "".join(f"{k}: {v}\r\n" for k, v in prepared.headers.items())
    head = f"POST {request.path} HTTP/1.1\r\n{fields}\r\n".encode()
    labels = {"model": model, "version": version}
    with socket.create_connection(("127.0.0.1", pod.ports["http"]), timeout=60) as conn:
        conn.sendall(head + body[:10])  # the service is now reading this request's body
        wait_until(
            lambda: value(samples(pod.url()), "modelfleet_inflight_requests", **labels) == 1,
            30, "the request to be in flight",
        )  # fmt: skip
        with ThreadPoolExecutor(1) as pool:
            stopping = pool.submit(pod.stop)
            wait_until(lambda: not pod.probe("readinessProbe"), 30, "the pod to leave service")
            conn.sendall(body[10:])
            answer = http.client.HTTPResponse(conn)
            answer.begin()
            assert answer.status == 200, answer.read()
            assert json.loads(answer.read())  # the whole answer, after SIGTERM
            code, seconds = stopping.result()
    assert code == 0, pod.logs()
    assert seconds < pod.grace_seconds - pod.pre_stop_seconds


def test_sigterm_stops_the_gateway_cleanly_within_its_grace_period(spares: dict[str, Pod]) -> None:
    pod = spares["gateway"]
    code, seconds = pod.stop()
    assert code == 0, pod.logs()
    assert seconds < pod.grace_seconds - pod.pre_stop_seconds

"""Routing through a real gateway process to real upstream processes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.processes import free_port
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes

PREDICT = "/models/iris/predict"
FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 90, "v2": 10}))


@pytest.fixture
def routes(gateway: Gateway, upstreams: dict[str, Upstream]) -> Iterator[Gateway]:
    """The module's gateway, back on the default table after each test."""
    yield gateway
    gateway.apply_routes(model_routes(upstreams, {"v1": 90, "v2": 10}))


def test_pinned_requests_always_reach_the_pinned_version(routes: Gateway) -> None:
    pin = {"X-Model-Version": "v2"}
    traffic = send_many(Load(routes.url + PREDICT, 200, FLOWER, headers=lambda _: pin))
    assert traffic.failures == [] and traffic.versions() == {"v2": 200}


def test_one_sticky_key_always_reaches_one_version(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 50, "v2": 50}, stickyHeader="X-User-Id"))
    seen: dict[str, set[str]] = {}
    for user in range(40):
        for _ in range(5):
            response = http.post(
                routes.url + PREDICT, json=FLOWER, headers={"X-User-Id": f"u{user}"}
            )
            seen.setdefault(f"u{user}", set()).add(response.headers["x-model-version"])
    assert all(len(versions) == 1 for versions in seen.values())
    assert {v for versions in seen.values() for v in versions} == {"v1", "v2"}


def test_multipart_uploads_pass_through_byte_for_byte(http: httpx.Client, routes: Gateway) -> None:
    image = bytes(range(256)) * 64
    response = http.post(routes.url + PREDICT, files={"file": ("digit.png", image, "image/png")})
    echoed = response.json()
    assert response.status_code == 200
    assert echoed["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    request = httpx.Request("POST", "http://x", files={"file": ("digit.png", image, "image/png")})
    assert echoed["body_bytes"] > len(image)  # the multipart envelope arrived whole
    assert len(request.read()) == echoed["body_bytes"]


def test_job_status_follows_the_pin_and_otherwise_the_stable_version(
    http: httpx.Client, routes: Gateway
) -> None:
    pinned = http.get(f"{routes.url}/models/iris/train/job-1", headers={"X-Model-Version": "v2"})
    assert pinned.json()["path"] == "/v1/models/iris/train/job-1"
    assert pinned.headers["x-model-version"] == "v2"
    answers = {http.get(f"{routes.url}/models/iris/train/job-1").headers["x-model-version"]
               for _ in range(30)}  # fmt: skip
    assert answers == {"v1"}


def test_oip_requests_pass_through_and_versioned_paths_pin(
    http: httpx.Client, routes: Gateway
) -> None:
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    versioned = http.post(f"{routes.url}/v2/models/iris/versions/v2/infer", json=body)
    assert versioned.headers["x-model-version"] == "v2"
    assert versioned.json()["path"] == "/v2/models/iris/versions/v2/infer"
    unknown = http.post(f"{routes.url}/v2/models/iris/versions/v9/infer", json=body)
    assert unknown.status_code == 404 and unknown.json()["versions"] == ["v1", "v2"]
    clash = http.post(f"{routes.url}/v2/models/iris/versions/v2/infer", json=body,
                       headers={"X-Model-Version": "v1"})  # fmt: skip
    assert clash.status_code == 400 and "contradicts" in clash.json()["error"]


def test_a_slow_version_answers_504_json_after_the_model_timeout(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 100}, timeoutSeconds=0.5, retries=1))
    upstreams["v1"].control(delay=3)
    response = http.post(routes.url + PREDICT, json=FLOWER, timeout=10)
    assert response.status_code == 504
    assert response.json() == {"error": "model 'iris' version 'v1' did not answer within 0.5s"}
    assert response.headers["x-model-version"] == "v1"


def test_a_server_error_is_passed_on_as_json_and_a_crash_page_is_replaced(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 100}))
    upstreams["v1"].control(status=500)
    assert http.post(routes.url + PREDICT, json=FLOWER).json() == {"error": "v1 told to fail"}
    upstreams["v1"].control(status=500, plain_errors=True)
    response = http.post(routes.url + PREDICT, json=FLOWER)
    assert response.status_code == 500 and "Traceback" not in response.text
    assert response.json() == {"error": "model 'iris' version 'v1' failed with HTTP 500"}


def test_a_dead_version_is_failed_over_without_client_errors_and_ejected(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    table = model_routes(upstreams, {"v1": 50, "v2": 50}, retries=1)
    table["models"]["iris"]["versions"]["v2"]["url"] = f"http://127.0.0.1:{free_port()}"
    routes.apply_routes(table)
    traffic = send_many(Load(routes.url + PREDICT, 300, FLOWER))
    assert traffic.failures == [] and traffic.versions() == {"v1": 300}
    listed = routes.models()["models"][0]["versions"]
    assert [(v["version"], v["ready"], v["ejected"]) for v in listed] == [
        ("v1", True, False), ("v2", False, True),
    ]  # fmt: skip
    metrics = http.get(f"{routes.url}/metrics").text
    assert 'modelfleet_gateway_retries_total{model="iris",variant="canary",version="v2"}' in metrics


def test_training_is_not_retried(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 100}, retries=2))
    upstreams["v1"].control(status=503)
    before = upstreams["v1"].stats().get("POST /v1/models/iris/train", 0)
    assert http.post(f"{routes.url}/models/iris/train", json={}).status_code == 503
    assert upstreams["v1"].stats()["POST /v1/models/iris/train"] - before == 1

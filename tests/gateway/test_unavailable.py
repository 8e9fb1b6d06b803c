"""No version left: a 503 with Retry-After that names the model and why, one test per cause.

The module's gateway ejects a version for 2 s, so a test can wait out an
ejection and see traffic come back once the probe after it readmits the version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.processes import free_port, wait_until
from tests.scrape import samples, value

from .harness import Gateway, GatewayFactory, Upstream, model_routes

PREDICT = "/models/iris/predict"
FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
COOLDOWN = 2
REQUESTS = "modelfleet_gateway_requests_total"


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    env = {"MODELFLEET_EJECT__COOLDOWN_SECONDS": str(COOLDOWN)}
    return start_gateway(model_routes(upstreams, {"v1": 90, "v2": 10}), env=env)


@pytest.fixture
def routes(
    gateway: Gateway, upstreams: dict[str, Upstream], http: httpx.Client
) -> Iterator[Gateway]:
    """The module's gateway; after each test the table is back and no version has a
    failure on record (ejections over, then one success each)."""
    yield gateway
    for upstream in upstreams.values():
        upstream.control()
    gateway.apply_routes(model_routes(upstreams, {"v1": 90, "v2": 10}))
    time.sleep(COOLDOWN)
    for version in ("v1", "v2"):
        pinned = {"X-Model-Version": version}
        assert http.post(gateway.url + PREDICT, json=FLOWER, headers=pinned).status_code == 200


def _unreachable(table: dict, *versions: str) -> dict:
    for version in versions:
        table["models"]["iris"]["versions"][version]["url"] = f"http://127.0.0.1:{free_port()}"
    return table


def _refused(response: httpx.Response, reasons: dict[str, str]) -> int:
    """Check a no-version-left answer; return its Retry-After."""
    assert response.status_code == 503, response.text
    why = "; ".join(f"{version} {reason}" for version, reason in reasons.items())
    assert response.json() == {
        "error": f"no version of model 'iris' can answer now: {why}",
        "model": "iris",
        "reasons": reasons,
    }
    assert "x-model-version" not in response.headers  # the body names every version
    return int(response.headers["retry-after"])


def test_every_version_unreachable(http: httpx.Client, routes: Gateway, upstreams: dict) -> None:
    routes.apply_routes(_unreachable(model_routes(upstreams, {"v1": 50, "v2": 50}), "v1", "v2"))
    response = http.post(routes.url + PREDICT, json=FLOWER)
    reasons = {"v1": "is unreachable", "v2": "is unreachable"}
    assert _refused(response, reasons) == 1


def _ejected(gateway: Gateway, version: str) -> bool:
    versions = gateway.models()["models"][0]["versions"]
    return bool(next(v["ejected"] for v in versions if v["version"] == version))


def test_every_version_ejected_is_refused_without_a_call_until_its_probe_readmits_it(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 100}, retries=2))
    upstreams["v1"].control(status=503, ready=False)
    before = value(samples(routes.url), REQUESTS, code="503")
    failing = http.post(routes.url + PREDICT, json=FLOWER)  # 3 failures in a row: ejected
    # Back at the earliest with the first probe after the cool-down.
    assert _refused(failing, {"v1": "answered 503 (v1 told to fail)"}) == COOLDOWN + 1
    calls = upstreams["v1"].stats()["POST /v1/models/iris/predict"]
    refused = http.post(routes.url + PREDICT, json=FLOWER)
    cooling = int(refused.headers["retry-after"]) - 1
    reason = f"is ejected after repeated failures, probed again in {cooling} s"
    assert _refused(refused, {"v1": reason}) in (COOLDOWN, COOLDOWN + 1)
    time.sleep(COOLDOWN + 1)  # past the cool-down, probed, and still not ready
    reason = "is ejected after repeated failures, back once its /readyz answers 200"
    awaiting = http.post(routes.url + PREDICT, json=FLOWER)
    assert _refused(awaiting, {"v1": reason}) == 1
    assert upstreams["v1"].stats()["POST /v1/models/iris/predict"] == calls
    assert value(samples(routes.url), REQUESTS, code="503") - before == 3  # each counted
    upstreams["v1"].control()  # healthy and ready: the next probe readmits it
    wait_until(lambda: not _ejected(routes, "v1"), 10, "the readmission of v1")
    served = http.post(routes.url + PREDICT, json=FLOWER)
    assert served.status_code == 200 and served.headers["x-model-version"] == "v1"


def test_every_version_unready_passes_on_the_soonest_retry_after(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(model_routes(upstreams, {"v1": 50, "v2": 50}, retries=1))
    upstreams["v1"].control(status=503, retry_after=7)
    upstreams["v2"].control(status=503, retry_after=5)
    response = http.post(routes.url + PREDICT, json=FLOWER)
    reasons = {"v1": "answered 503 (v1 told to fail)", "v2": "answered 503 (v2 told to fail)"}
    assert _refused(response, reasons) == 5


def test_a_canary_held_by_the_guard_beside_a_failing_stable_version(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    guard = {"enabled": True, "minRequests": 4, "maxErrorRate": 0.5, "windowSeconds": 60}
    routes.apply_routes(model_routes(upstreams, {"v1": 90, "v2": 10}, guard=guard))
    upstreams["v2"].control(status=500)
    for _ in range(4):  # pinned requests count for the guard too
        http.post(routes.url + PREDICT, json=FLOWER, headers={"X-Model-Version": "v2"})
    upstreams["v1"].control(status=503)
    response = http.post(routes.url + PREDICT, json=FLOWER)
    held = "is held out by the canary guard (4 errors in 4 requests) until the routes change"
    assert _refused(response, {"v1": "answered 503 (v1 told to fail)", "v2": held}) == 1


def test_a_pinned_version_that_is_down(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    routes.apply_routes(_unreachable(model_routes(upstreams, {"v1": 90, "v2": 10}), "v2"))
    response = http.post(routes.url + PREDICT, json=FLOWER, headers={"X-Model-Version": "v2"})
    assert _refused(response, {"v2": "is unreachable"}) == 1


def test_a_failure_with_another_version_left_but_no_retry_is_a_502(
    http: httpx.Client, routes: Gateway, upstreams: dict[str, Upstream]
) -> None:
    table = _unreachable(model_routes(upstreams, {"v1": 50, "v2": 50}, retries=0), "v1")
    routes.apply_routes(table)
    statuses = {http.post(routes.url + PREDICT, json=FLOWER).status_code for _ in range(30)}
    assert statuses == {200, 502}  # v1 failed while v2 was left; never "no version left"

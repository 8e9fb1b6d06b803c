"""Readmission: an ejected version comes back through its readiness probe, never
through a caller's request."""

from __future__ import annotations

import pytest

from tests.processes import wait_until
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes

PREDICT = "/v1/models/iris/predict"
COOLDOWN_SECONDS = 1.0


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    env = {"MODELFLEET_EJECT__COOLDOWN_SECONDS": str(COOLDOWN_SECONDS)}
    return start_gateway(model_routes(upstreams, {"v1": 50, "v2": 50}, retries=1), env=env)


def ejected(gateway: Gateway, version: str) -> bool:
    versions = gateway.models()["models"][0]["versions"]
    return bool(next(v["ejected"] for v in versions if v["version"] == version))


def test_an_ejected_version_waits_for_its_probe_then_serves_again(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    url = gateway.url + "/models/iris/predict"
    upstreams["v2"].control(status=503, ready=False)  # down, and says so on /readyz
    first = send_many(Load(url, 100, {}, concurrency=4))
    assert first.failures == [] and ejected(gateway, "v2")
    tried = upstreams["v2"].stats().get(f"POST {PREDICT}", 0)
    # Past the cool-down, the unready version gets no caller's request.
    later = send_many(Load(url, 100, {}, concurrency=4, pause=3 * COOLDOWN_SECONDS / 100))
    assert later.failures == [] and later.versions() == {"v1": 100}
    assert upstreams["v2"].stats().get(f"POST {PREDICT}", 0) == tried
    upstreams["v2"].control()  # healthy and ready again
    wait_until(lambda: not ejected(gateway, "v2"), 10 * COOLDOWN_SECONDS, "the readmission")
    back = send_many(Load(url, 100, {}, concurrency=4))
    assert back.failures == [] and back.versions()["v2"] > 20
    assert "ejected version is ready again: readmitted" in gateway.server.output()

"""With a metrics port, /metrics answers there only and nothing else does.

The chart sets `MODELFLEET_SERVER__METRICS_PORT`, so an Ingress or HTTPRoute,
which send every path to the main port, never expose the gateway's metrics
(model names, weights, error rates).
"""

from __future__ import annotations

import httpx
import pytest

from tests.processes import free_port

from .harness import Gateway, GatewayFactory, Upstream, model_routes


@pytest.fixture(scope="module")
def split(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> tuple[Gateway, str]:
    port = free_port()
    gateway = start_gateway(
        model_routes(upstreams, {"v1": 100}), env={"MODELFLEET_SERVER__METRICS_PORT": str(port)}
    )
    return gateway, f"http://127.0.0.1:{port}"


def test_metrics_answer_on_the_metrics_port(split: tuple[Gateway, str]) -> None:
    _, metrics_url = split
    response = httpx.get(f"{metrics_url}/metrics")
    assert response.status_code == 200
    assert "modelfleet_gateway_route_weight{" in response.text


def test_the_main_port_refuses_metrics_with_a_clear_404(split: tuple[Gateway, str]) -> None:
    gateway, _ = split
    response = httpx.get(f"{gateway.url}/metrics")
    assert response.status_code == 404
    assert response.json() == {"error": "/metrics is served on the gateway's metrics port only"}
    assert httpx.post(f"{gateway.url}/models/iris/predict", json={}).status_code == 200


def test_the_metrics_port_serves_nothing_else(split: tuple[Gateway, str]) -> None:
    _, metrics_url = split
    for path in ("/models", "/models/iris/predict", "/readyz", "/docs"):
        response = httpx.get(f"{metrics_url}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"error": "only /metrics is served on this port"}

"""Body limit: 413 before anything is forwarded, by Content-Length or by counting."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .harness import Gateway, GatewayFactory, Upstream, model_routes

LIMIT = 4096


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(
        model_routes(upstreams, {"v1": 100}), env={"MODELFLEET_MAX_BODY_BYTES": str(LIMIT)}
    )


def received(upstream: Upstream) -> int:
    return upstream.stats().get("POST /v1/models/iris/predict", 0)


def test_a_declared_oversized_body_gets_413_and_is_not_forwarded(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    before = received(upstreams["v1"])
    response = httpx.post(f"{gateway.url}/models/iris/predict", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"error": f"request body exceeds {LIMIT} bytes", "limit": LIMIT}
    assert received(upstreams["v1"]) == before


def test_a_streamed_body_without_length_is_counted_and_cut_off(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1024

    before = received(upstreams["v1"])
    response = httpx.post(f"{gateway.url}/models/iris/predict", content=chunks())
    assert response.status_code == 413
    assert received(upstreams["v1"]) == before


def test_a_body_at_the_limit_is_forwarded_whole(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/models/iris/predict", content=b"z" * LIMIT)
    assert response.status_code == 200 and response.json()["body_bytes"] == LIMIT

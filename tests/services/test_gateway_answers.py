"""segment and penguins through a real gateway: the same bytes as from the services directly.

Pictures pass the gateway byte for byte (the PNG itself and JSON with data URLs),
and the gateway routes penguins' query-parameter GET like any predict.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.segment.scenes import held_out
from tests.conftest import GatewayFactory, ServeModel
from tests.gateway.harness import Gateway
from tests.processes import Server
from tests.services.penguins.rows import ROWS
from tests.services.segment.pictures import PREDICT, upload


@pytest.fixture(scope="module")
def services(serve_model_module: ServeModel) -> dict[str, Server]:
    return {name: serve_model_module(name) for name in ("segment", "penguins")}


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, services: dict[str, Server]) -> Gateway:
    routes = {
        name: {"versions": {"v1": {"url": server.url, "weight": 100}}, "timeoutSeconds": 30}
        for name, server in services.items()
    }
    return start_gateway({"models": routes})


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


@pytest.mark.parametrize("accept", ["image/png", "image/webp", "application/json"])
def test_segment_answers_through_the_gateway_equal_the_direct_ones(
    http: httpx.Client, services: dict[str, Server], gateway: Gateway, accept: str
) -> None:
    for image in held_out().images[:3]:
        direct = http.post(services["segment"].url + PREDICT, headers={"accept": accept},
                           **upload(image))  # fmt: skip
        routed = http.post(f"{gateway.url}/models/segment/predict", headers={"accept": accept},
                           **upload(image))  # fmt: skip
        assert direct.status_code == routed.status_code == 200, routed.text
        assert routed.headers["content-type"] == direct.headers["content-type"]
        assert routed.headers["content-type"].startswith(accept)
        assert routed.content == direct.content


def test_penguins_query_predict_through_the_gateway_equals_the_direct_one(
    http: httpx.Client, services: dict[str, Server], gateway: Gateway
) -> None:
    for row in ROWS[:10]:
        direct = http.get(services["penguins"].url + "/v1/models/penguins/predict", params=row)
        routed = http.get(f"{gateway.url}/models/penguins/predict", params=row)
        assert direct.status_code == routed.status_code == 200, routed.text
        assert routed.json() == direct.json()
    response = http.get(f"{gateway.url}/models/penguins/predict", params={"island": "Dream"})
    assert response.status_code == 422
    assert ["query", "bill_length_mm"] in [e["loc"] for e in response.json()["detail"]]

"""API keys: sha256 digests from a file, Bearer or X-API-Key, 401 JSON, probes open."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.datastructures import Headers

from gateway.auth import ApiKeys, presented_key
from tests.processes import wait_until

from .harness import Gateway, GatewayFactory, Upstream, model_routes

KEY = "s3cret-key-for-tests"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_the_key_file_holds_digests_with_comments_and_blank_lines() -> None:
    keys = ApiKeys.parse(f"# ci key\n\n{digest(KEY).upper()}  # trailing comment\n")
    assert keys.allows(KEY) and not keys.allows("other")


def test_a_line_that_is_not_a_digest_is_rejected_with_its_number() -> None:
    with pytest.raises(ValueError, match="line 2"):
        ApiKeys.parse(f"{digest(KEY)}\nplaintext-key\n")


def test_keys_are_read_from_bearer_or_x_api_key() -> None:
    assert presented_key(Headers({"authorization": "Bearer abc"})) == "abc"
    assert presented_key(Headers({"x-api-key": "abc"})) == "abc"
    assert presented_key(Headers({"authorization": "Basic abc"})) is None


@pytest.fixture(scope="module")
def secured(start_gateway: GatewayFactory, upstreams: dict[str, Upstream],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:  # fmt: skip
    folder = tmp_path_factory.mktemp("keys")
    (folder / "keys").write_text(f"{digest(KEY)}\n")
    yield start_gateway(
        model_routes(upstreams, {"v1": 100}),
        env={"MODELFLEET_API_KEYS_FILE": str(folder / "keys")},
        headers={"X-API-Key": KEY},
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}],
)
def test_wrong_or_missing_keys_get_401_json(secured: Gateway, headers: dict[str, str]) -> None:
    for method, path in (("POST", "/models/iris/predict"), ("GET", "/models"),
                         ("POST", "/v2/models/iris/infer")):  # fmt: skip
        response = httpx.request(method, secured.url + path, json={}, headers=headers)
        assert response.status_code == 401, (method, path)
        assert "API key" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_listed_key_is_accepted_either_way(secured: Gateway) -> None:
    for headers in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        response = httpx.post(f"{secured.url}/models/iris/predict", json={}, headers=headers)
        assert response.status_code == 200
        assert "authorization" not in response.json()["headers"]  # never sent upstream
        assert "x-api-key" not in response.json()["headers"]


def test_probes_and_metrics_stay_open(secured: Gateway) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/v2/health/live", "/v2/health/ready"):
        assert httpx.get(secured.url + path).status_code == 200, path


def test_rotated_keys_take_effect_without_a_restart(secured: Gateway) -> None:
    keys_file = Path(secured.server.env["MODELFLEET_API_KEYS_FILE"])
    keys_file.write_text(f"{digest('rotated')}\n")
    try:

        def rotated() -> bool:
            response = httpx.get(f"{secured.url}/models", headers={"X-API-Key": "rotated"})
            return response.status_code == 200

        wait_until(rotated, 10, "the rotated key to be accepted")
        assert httpx.get(f"{secured.url}/models", headers={"X-API-Key": KEY}).status_code == 401
    finally:
        keys_file.write_text(f"{digest(KEY)}\n")
        wait_until(lambda: httpx.get(f"{secured.url}/models", headers=secured.headers).is_success,
                   10, "the original key to be accepted again")  # fmt: skip

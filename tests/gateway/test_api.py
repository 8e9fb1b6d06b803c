"""The gateway's HTTP surface through a real process: errors, probes, docs, headers."""

from __future__ import annotations

import httpx
import pytest

from .harness import Gateway, GatewayFactory, Upstream, model_routes

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 90, "v2": 10}))


@pytest.mark.parametrize("path", ["/models/tulip/predict", "/v2/models/tulip/infer"])
def test_an_unknown_model_is_a_404_listing_the_known_models(gateway: Gateway, path: str) -> None:
    response = httpx.post(gateway.url + path, json={})
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown model 'tulip'; known models: iris", "models": ["iris"],
    }  # fmt: skip


def test_pinning_an_unknown_version_is_a_404_naming_the_known_versions(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/models/iris/predict", json={},
                          headers={"X-Model-Version": "v9"})  # fmt: skip
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown version 'v9'; known versions: v1, v2", "versions": ["v1", "v2"],
    }  # fmt: skip


def test_answers_name_the_version_and_carry_the_callers_request_id(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/models/iris/predict", json={},
                          headers={"X-Request-Id": "req-42", "traceparent": TRACEPARENT})  # fmt: skip
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["x-model-version"] == response.json()["version"]
    upstream_saw = response.json()["headers"]
    assert upstream_saw["x-request-id"] == "req-42"
    assert upstream_saw["traceparent"] == TRACEPARENT


def test_header_bytes_reach_the_version_unchanged(gateway: Gateway) -> None:
    url = f"{gateway.url}/models/iris/predict"
    for value in ("zoë".encode(), "zoë".encode("latin-1")):  # UTF-8 or not
        response = httpx.post(url, json={}, headers={"X-User-Id": value})
        assert response.status_code == 200
        # The upstream decodes header bytes as latin-1 (as Starlette does), so compare bytes.
        assert response.json()["headers"]["x-user-id"].encode("latin-1") == value


def test_a_request_id_is_made_up_when_missing_or_unsafe(gateway: Gateway) -> None:
    for headers in ({}, {"X-Request-Id": "bad id\twith spaces"}):
        response = httpx.post(f"{gateway.url}/models/iris/predict", json={}, headers=headers)
        assert len(response.headers["x-request-id"]) == 32
        assert response.json()["headers"]["x-request-id"] == response.headers["x-request-id"]


def test_gateway_errors_carry_a_request_id_too(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/models/tulip/predict", json={})
    assert response.headers["x-request-id"]


def test_model_metadata_comes_from_the_stable_version(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/models/iris")
    assert response.json()["path"] == "/v1/models/iris"
    assert response.headers["x-model-version"] == "v1"


def test_the_fleet_listing_shows_weights_urls_readiness_and_guard(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    upstreams["v2"].control(ready=False)
    (iris,) = gateway.models()["models"]
    assert (iris["name"], iris["timeoutSeconds"], iris["retries"]) == ("iris", 5, 1)
    assert [(v["version"], v["weight"], v["url"], v["role"], v["ready"]) for v in iris["versions"]] == [
        ("v1", 90, upstreams["v1"].url, "stable", True),
        ("v2", 10, upstreams["v2"].url, "canary", False),
    ]  # fmt: skip
    assert iris["versions"][1]["guard"]["state"] == "off"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/readyz", 200), ("/v2", 200), ("/v2/health/live", 200),
     ("/v2/health/ready", 200), ("/docs", 200), ("/openapi.json", 200)],
)  # fmt: skip
def test_probes_and_docs_answer(gateway: Gateway, path: str, status: int) -> None:
    assert httpx.get(gateway.url + path).status_code == status


def test_the_openapi_document_lists_the_routed_paths(gateway: Gateway) -> None:
    paths = httpx.get(f"{gateway.url}/openapi.json").json()["paths"]
    oip = {f"/v2/models/{{name}}{pin}{leaf}"
           for pin in ("", "/versions/{version}") for leaf in ("", "/ready", "/infer")}  # fmt: skip
    assert {"/models", "/models/{name}", "/models/{name}/{rest}", *oip} <= set(paths)


def test_a_routed_action_documents_every_kind_of_answer_it_passes_on(gateway: Gateway) -> None:
    action = httpx.get(f"{gateway.url}/openapi.json").json()["paths"]["/models/{name}/{rest}"]
    # JSON, a picture (Accept), NDJSON lines (a streaming action, POST only)
    assert list(action["get"]["responses"]["200"]["content"]) == ["application/json", "image/*"]
    assert list(action["post"]["responses"]["200"]["content"]) == [
        "application/json", "image/*", "application/x-ndjson",
    ]  # fmt: skip
    assert {"406", "422", "500"} <= set(action["get"]["responses"])
    assert {"406", "409", "413", "415", "422", "500"} <= set(action["post"]["responses"])


def _path_enum(gateway: Gateway, name: str) -> list[str]:
    operation = httpx.get(f"{gateway.url}/openapi.json").json()["paths"][
        "/v2/models/{name}/versions/{version}/infer"
    ]["post"]
    return next(p["schema"]["enum"] for p in operation["parameters"] if p["name"] == name)


def test_the_openapi_document_names_the_models_and_versions_of_the_routes_in_force(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    assert (_path_enum(gateway, "name"), _path_enum(gateway, "version")) == (["iris"], ["v1", "v2"])
    table = model_routes(upstreams, {"v1": 100})
    table["models"]["tulip"] = table["models"]["iris"]
    gateway.apply_routes(table)
    try:
        assert _path_enum(gateway, "name") == ["iris", "tulip"]
        assert _path_enum(gateway, "version") == ["v1"]
    finally:
        gateway.apply_routes(model_routes(upstreams, {"v1": 90, "v2": 10}))


def test_the_gateway_advertises_the_extensions_it_passes_through(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/v2").json()["extensions"] == ["binary_tensor_data"]


def test_an_unserved_path_is_a_json_404(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/nothing/here")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


def test_an_encoded_dot_segment_cannot_reach_other_upstream_paths(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/models/iris/..%2F..%2F..%2Fmetrics")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid path segment in '../../../metrics'"}

"""One upstream call: headers filtered both ways, httpx errors mapped to 502/504 JSON."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from gateway.errors import UpstreamError, UpstreamTimeout
from gateway.proxy import REQUEST_DROP, Outbound, call, forwardable, to_response

TIMEOUT = httpx.Timeout(2.0, connect=1.0)
OUT = Outbound("POST", "/v1/models/iris/predict", (("content-type", "application/json"),), b"{}")


def run_call(handler: httpx.MockTransport) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=handler) as client:
            return await call(client, "http://iris-v1:8080", OUT, TIMEOUT, "model 'iris' v1")

    return asyncio.run(go())


def failing(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def test_credentials_and_hop_by_hop_headers_are_not_forwarded() -> None:
    headers = [
        ("Authorization", "Bearer secret"), ("X-API-Key", "secret"), ("Connection", "x-private"),
        ("X-Private", "1"), ("Keep-Alive", "5"), ("Content-Type", "application/json"),
        ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ]  # fmt: skip
    kept = dict(forwardable(headers, REQUEST_DROP))
    assert kept == {"content-type": "application/json", "traceparent": headers[-1][1]}


def test_a_refused_connection_becomes_a_502_naming_the_version() -> None:
    with pytest.raises(UpstreamError) as caught:
        run_call(failing(httpx.ConnectError("refused")))
    assert caught.value.status == 502 and caught.value.reason == "connect"
    assert caught.value.message == "model 'iris' v1 is unreachable"


def test_a_read_timeout_becomes_a_504() -> None:
    with pytest.raises(UpstreamTimeout) as caught:
        run_call(failing(httpx.ReadTimeout("slow")))
    assert caught.value.status == 504 and "within 2s" in caught.value.message


def test_a_dropped_connection_is_a_retryable_502() -> None:
    with pytest.raises(UpstreamError) as caught:
        run_call(failing(httpx.RemoteProtocolError("closed")))
    assert caught.value.status == 502 and caught.value.reason == "disconnect"


def test_the_upstream_answer_is_passed_on_with_the_answering_version() -> None:
    upstream = httpx.Response(
        201, json={"ok": True}, headers={"x-request-id": "theirs", "retry-after": "3"}
    )
    response = to_response(upstream, {"x-model-version": "v2"}, "iris v2")
    assert response.status_code == 201 and json.loads(bytes(response.body)) == {"ok": True}
    assert response.headers["x-model-version"] == "v2"
    assert response.headers["retry-after"] == "3"
    assert "x-request-id" not in response.headers  # the gateway's own id is added later


def test_a_non_json_server_error_never_reaches_the_caller_as_is() -> None:
    upstream = httpx.Response(500, text="Traceback (most recent call last): ...")
    response = to_response(upstream, {"x-model-version": "v1"}, "model 'iris' version 'v1'")
    assert response.headers["content-type"] == "application/json"
    assert json.loads(bytes(response.body)) == {
        "error": "model 'iris' version 'v1' failed with HTTP 500"
    }

"""The typed JSON predict route answers what FastAPI's own route answers.

`JsonBodyRoute` serves the predict path without FastAPI's per-request solver; the
same app built with FastAPI's `APIRoute` for that path is the reference, and every
request below, good or bad, must get the same status and body from both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import anyio
import pytest
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

from services.runtime import typed
from services.runtime.app import create_app
from tests.runtime.test_query import GOOD, Bills
from tests.runtime.test_readiness import settings_for, wait_for

PREDICT = "/v1/models/bills/predict"
JSON = {"content-type": "application/json"}
REQUESTS = {
    "one instance": dict(json=GOOD),
    "bulk": dict(json={"instances": [GOOD, {**GOOD, "length_mm": 45.5}]}),
    "+json media type": dict(content=b'{"length_mm": 39.1, "island": "Dream"}',
                             headers={"content-type": "application/vnd.api+json"}),
    "charset parameter": dict(content=b'{"length_mm": 39.1, "island": "Dream"}',
                              headers={"content-type": "application/json; charset=utf-8"}),
    "out of range": dict(json={**GOOD, "length_mm": 1}),
    "wrong type": dict(json={**GOOD, "length_mm": "long"}),
    "integral float for an int": dict(json={**GOOD, "year": 2008.0}),
    "bool for an int": dict(json={**GOOD, "year": True}),
    "unknown field": dict(json={**GOOD, "beak": 1}),
    "not an object": dict(json=[GOOD]),
    "empty bulk": dict(json={"instances": []}),
    "bad bulk row": dict(json={"instances": [GOOD, {"island": "Mars"}]}),
    "malformed JSON": dict(content=b'{"length_mm": 39.1,', headers=JSON),
    "NaN": dict(content=b'{"length_mm": NaN, "island": "Dream"}', headers=JSON),
    "not UTF-8": dict(content=b'{"\xff": 1}', headers=JSON),
    "no body": dict(),
    "empty body, JSON type": dict(content=b"", headers=JSON),
    "wrong media type": dict(content=b"{}", headers={"content-type": "text/plain"}),
    "body without a media type": dict(content=b"{}", headers={"content-type": ""}),
}  # fmt: skip


def _client(registry: Path) -> TestClient:
    return TestClient(create_app(settings_for("bills", registry), Bills()))


@pytest.fixture(scope="module")
def clients(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, TestClient]]:
    lean = _client(tmp_path_factory.mktemp("lean"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typed, "JsonBodyRoute", APIRoute)
        fastapi = _client(tmp_path_factory.mktemp("fastapi"))
    with lean, fastapi:
        for client in (lean, fastapi):
            wait_for(lambda c=client: c.get("/readyz").status_code == 200)
        yield lean, fastapi


def test_the_predict_path_is_served_by_the_lean_route(
    clients: tuple[TestClient, TestClient],
) -> None:
    lean, fastapi = clients
    routes = {type(r) for app in (lean.app, fastapi.app) for r in app.routes  # type: ignore[attr-defined]
              if getattr(r, "path", "") == "/v1/models/{name}/predict"}  # fmt: skip
    assert routes == {typed.JsonBodyRoute, APIRoute}
    assert lean.get("/openapi.json").json() == fastapi.get("/openapi.json").json()


@pytest.mark.parametrize("request_", REQUESTS.values(), ids=REQUESTS.keys())
def test_each_request_gets_the_answer_fastapis_route_gives(
    clients: tuple[TestClient, TestClient], request_: dict
) -> None:
    lean, fastapi = (c.post(PREDICT, **request_) for c in clients)
    assert lean.status_code == fastapi.status_code, (lean.text, fastapi.text)
    assert lean.json() == fastapi.json()


@pytest.mark.parametrize(
    ("path", "request_", "status"),
    [
        ("/v1/models/tulip/predict", dict(content=b"{oops", headers=JSON), 404),
        (PREDICT, dict(content=b"{oops", headers={"content-type": "text/plain"}), 415),
    ],
    ids=["unknown model", "wrong media type"],
)
def test_the_model_and_media_type_are_checked_before_the_body_is_parsed(
    clients: tuple[TestClient, TestClient], path: str, request_: dict, status: int
) -> None:
    lean, _ = clients
    response = lean.post(path, **request_)
    assert response.status_code == status
    assert "error" in response.json()


def test_a_route_dependency_is_refused_rather_than_skipped() -> None:
    async def endpoint(
        body: dict, request: Request, service: Annotated[str, Depends(_check)]
    ) -> None:
        raise AssertionError("never served")

    with pytest.raises(TypeError, match="runs no route dependencies"):
        typed.JsonBodyRoute("/x/{name}", endpoint, dependencies=[Depends(_check)], methods=["POST"])


async def _check(request: Request, name: str) -> str:
    return name


def test_a_client_that_leaves_mid_body_gets_what_fastapis_route_answers(
    clients: tuple[TestClient, TestClient],
) -> None:
    """A 400, as FastAPI answers (to nobody), not a 500 in the logs and metrics."""
    statuses = [anyio.run(_left_mid_body, client.app) for client in clients]
    assert statuses == [400, 400]


async def _left_mid_body(app: ASGIApp) -> int:
    messages = [
        {"type": "http.request", "body": b'{"length_mm": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": PREDICT, "raw_path": PREDICT.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/json")],
    }  # fmt: skip
    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")

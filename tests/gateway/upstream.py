"""A small real model-service stand-in for gateway tests, steerable at runtime.

Run: `uvicorn --factory tests.gateway.upstream:create_upstream` with
`UPSTREAM_VERSION=v2`. `POST /_control` changes how it answers (status code,
delay, prediction label, readiness); `GET /_stats` counts what it received, so
tests can check what reached which version. `POST .../stream?lines=&gap=&cut_after=`
answers NDJSON lines `gap` seconds apart (counting each line sent and a client
that left), `GET .../picture` a fixed binary body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel

__all__ = ["PICTURE", "Control", "create_upstream"]

PICTURE = bytes(range(256)) * 257
"""The binary body of `GET .../picture`: every byte value, not valid UTF-8."""


class Control(BaseModel):
    status: int = 200
    delay: float = 0.0
    label: str = "setosa"
    ready: bool = True
    plain_errors: bool = False  # answer errors as text/plain, like a crashed proxy
    retry_after: int | None = None  # a Retry-After header on errors


def _echo(request: Request, body: bytes, version: str) -> dict[str, Any]:
    return {
        "version": version,
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": {k: v for k, v in request.headers.items()},
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_bytes": len(body),
    }


async def _answer(request: Request, ctl: Control, version: str) -> Response:
    """Echo what arrived, after `ctl.delay`, or fail with `ctl.status`."""
    body = await request.body()
    if ctl.delay:
        await asyncio.sleep(ctl.delay)
    if ctl.status >= 400:
        headers = {"Retry-After": str(ctl.retry_after)} if ctl.retry_after is not None else None
        if ctl.plain_errors:
            return PlainTextResponse("Traceback (most recent call last): boom", ctl.status, headers)
        return JSONResponse({"error": f"{version} told to fail"}, ctl.status, headers)
    answer = _echo(request, body, version)
    # Scores differ per version, so agreement must come from the label alone.
    score = int(version[1:]) / 10
    answer["predictions"] = [{"species": ctl.label, "probabilities": {"setosa": score}}]
    return JSONResponse(answer, status_code=ctl.status)


def _metadata(name: str, version: str) -> dict[str, Any]:
    """A typed service's metadata, trimmed to what the playground reads (one JSON predict)."""
    example = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    schema = {
        "type": "object",
        "properties": {
            f: {"type": "number", "exclusiveMinimum": 0, "maximum": 10} for f in example
        },
        "required": list(example),
        "examples": [example],
    }
    predict = {
        "name": "predict", "path": f"/v1/models/{name}/predict", "summary": "Predict",
        "request": "json", "media_types": [], "bulk": True, "query": False, "stream": False,
        "input_schema": schema, "output_schema": {"type": "object", "properties": {}},
    }  # fmt: skip
    return {"name": name, "version": version, "path": f"/v1/models/{name}", "operations": [predict],
            "limits": {"max_body_bytes": 1 << 20, "max_instances": 8}}  # fmt: skip


async def _lines(
    version: str, lines: int, gap: float, cut_after: int | None, seen: Counter[str]
) -> AsyncIterator[bytes]:
    try:
        for index in range(lines):
            if index == cut_after:
                raise RuntimeError("told to break the stream off")  # uvicorn aborts it
            if index:
                await asyncio.sleep(gap)
            seen["stream lines"] += 1
            yield json.dumps({"index": index, "version": version}).encode() + b"\n"
    except (asyncio.CancelledError, GeneratorExit):
        seen["stream cancelled"] += 1
        raise


def _add_stream_routes(app: FastAPI, version: str, seen: Counter[str], state: dict) -> None:
    @app.post("/v1/models/{name}/stream")
    async def stream(
        name: str, lines: int = 5, gap: float = 0.2, cut_after: int | None = None
    ) -> Response:
        seen["POST stream"] += 1
        if state["control"].status >= 400:
            return JSONResponse({"error": f"{version} told to fail"}, state["control"].status)
        body = _lines(version, lines, gap, cut_after, seen)
        return StreamingResponse(body, media_type="application/x-ndjson")

    @app.get("/v1/models/{name}/picture")
    async def picture(name: str) -> Response:
        return Response(PICTURE, media_type="image/png")


def create_upstream() -> FastAPI:
    version = os.environ.get("UPSTREAM_VERSION", "v1")
    app = FastAPI()
    state = {"control": Control()}
    seen: Counter[str] = Counter()

    @app.post("/_control")
    async def control(update: Control) -> Control:
        state["control"] = update
        return update

    @app.get("/_stats")
    async def stats() -> dict[str, int]:
        return dict(seen)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        ready = state["control"].ready
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/v1/models/{name}")
    async def metadata(name: str) -> dict[str, Any]:
        return _metadata(name, version)

    _add_stream_routes(app, version, seen, state)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def answer(path: str, request: Request) -> Response:
        seen[f"{request.method} /{path}"] += 1
        if request.headers.get("x-modelfleet-shadow"):
            seen["shadow"] += 1
        return await _answer(request, state["control"], version)

    return app

"""Streamed answers: NDJSON, one complete JSON result per line, sent as each exists.

The first result is computed before the response starts, so a request the model
refuses (or a model that fails at once) still gets its ordinary 4xx/5xx, and a
gateway may retry it: nothing has been sent yet. After that the status is 200 and
each result follows as one line. When the client goes away, Starlette cancels the
response; the results are closed here at once, which closes the model's generator
(`ModelService.stream_action`), so no further result is computed. A model failure
mid-stream aborts the response, so the client sees a truncated body, not a clean end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Send

__all__ = ["NDJSON", "NDJSONResponse", "stream", "stream_openapi"]

NDJSON = "application/x-ndjson"


class NDJSONResponse(StreamingResponse):
    """A StreamingResponse that closes its lines (and so their source) however it ends.

    Starlette iterates the body without closing it; a response cancelled between two
    lines would leave the source suspended until garbage collection.
    """

    media_type = NDJSON

    async def stream_response(self, send: Send) -> None:
        async with aclosing(self.body_iterator):  # type: ignore[type-var]
            await super().stream_response(send)


async def _line(result: BaseModel) -> bytes:
    # Pictures are PNG-encoded while dumping: CPU work, kept off the event loop.
    text = await run_in_threadpool(result.model_dump_json)
    return text.encode() + b"\n"


async def _lines(first: BaseModel | None, rest: AsyncIterator[BaseModel]) -> AsyncIterator[bytes]:
    async with aclosing(rest):  # type: ignore[type-var]
        if first is not None:
            yield await _line(first)
        async for result in rest:
            yield await _line(result)


async def stream(results: AsyncIterator[BaseModel]) -> NDJSONResponse:
    """Wait for the first result, then answer it and the others as NDJSON lines."""
    try:
        first = await anext(results, None)
    except BaseException:
        await results.aclose()  # type: ignore[attr-defined]
        raise
    return NDJSONResponse(_lines(first, results))


def stream_openapi(item: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` saying each line of the answer is one `item` (OpenAPI's itemSchema)."""
    lines = {"itemSchema": {"$ref": f"#/components/schemas/{item.__name__}"}}
    description = f"NDJSON: one `{item.__name__}` per line, each sent as soon as it exists"
    return {"responses": {"200": {"description": description, "content": {NDJSON: lines}}}}

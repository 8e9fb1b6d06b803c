"""Content negotiation for answers that hold a picture: the picture itself, or JSON.

A predict whose output has a picture field (`pictures.Image`, `Mask`) answers the
picture itself, as PNG, JPEG or WebP, when the caller's `Accept` prefers one of
those to JSON and the request was for one instance; the output's first picture
field is the one answered. Otherwise it answers JSON, with every picture a PNG data
URL. Equal preference (`*/*`, or no `Accept` at all) means JSON; an `Accept` that
allows nothing offered is a 406 naming what is. Outputs without pictures always
answer JSON, as before.
"""

from __future__ import annotations

from typing import Any

import mimeparse
from opentelemetry import trace
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .errors import BadRequest, NotAcceptable
from .imaging import ENCODINGS
from .pictures import picture_fields
from .responses import answers

__all__ = ["JSON", "PICTURE_MEDIA_TYPES", "answer", "negotiate", "offers", "responses"]

JSON = "application/json"
PICTURE_MEDIA_TYPES = tuple(ENCODINGS)
VARY = {"Vary": "Accept"}
tracer = trace.get_tracer("modelfleet.runtime")


def offers(output: type[BaseModel], instances: int) -> list[str]:
    """What an answer of `instances` predictions can be sent as, JSON first."""
    if instances == 1 and picture_fields(output):
        return [JSON, *PICTURE_MEDIA_TYPES]
    return [JSON]


def choose(accept: str | None, offered: list[str]) -> str:
    """The offered media type `accept` likes best; ties go to the earlier offer."""
    if not accept or not accept.strip():
        return offered[0]
    try:
        # best_match prefers the later of equally good types, hence the reversal.
        best = mimeparse.best_match(offered[::-1], accept)
    except (ValueError, IndexError, mimeparse.MimeTypeParseException) as exc:
        raise BadRequest(f"the Accept header {accept!r} is malformed") from exc
    if not best:
        raise NotAcceptable(
            f"cannot answer in any type that Accept {accept!r} allows; this request can be "
            f"answered as {', '.join(offered)}"
        )
    return best


def negotiate(output: type[BaseModel], instances: int, accept: str | None) -> str:
    """The media type to answer `instances` predictions of `output` in (before computing)."""
    if not picture_fields(output):
        return JSON
    return choose(accept, offers(output, instances))


async def answer(body: Any, output: type[BaseModel], media_type: str) -> Response:
    """A predict answer `body` ({"model", "version", "predictions"}) as JSON, or the first
    picture field of its one prediction as `media_type`.

    Encoding pictures is real work (PNG, JPEG, WebP), so it has an `encode` span; plain
    JSON costs less than the span would."""
    pictures = picture_fields(output)
    if not pictures:
        return Response(body.model_dump_json(), media_type=JSON)
    with tracer.start_as_current_span("encode"):
        if media_type == JSON:
            # Pictures are PNG-encoded while dumping: CPU work, kept off the event loop.
            text = await run_in_threadpool(body.model_dump_json)
            return Response(text, media_type=JSON, headers=VARY)
        field, picture = next(iter(pictures.items()))
        array = getattr(body.predictions[0], field)
        payload = await run_in_threadpool(picture.encode, array, media_type)
        return Response(payload, media_type=media_type, headers=VARY)


def responses(output: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a predict of `output`: the picture types beside JSON, the
    400 of a malformed `Accept` and the 406 of one that allows none of them."""
    pictures = picture_fields(output)
    if not pictures:
        return {}
    field = next(iter(pictures))
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        200: {
            "description": (
                f"JSON (pictures as PNG data URLs), or the picture `{field}` itself when "
                f"`Accept` prefers {', '.join(PICTURE_MEDIA_TYPES)} and one instance was sent"
            ),
            "content": dict.fromkeys(PICTURE_MEDIA_TYPES, binary),
        },
        **answers(400, 406),
    }

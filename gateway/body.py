"""Read a request body under a size limit, refusing early rather than buffering."""

from __future__ import annotations

from starlette.requests import Request

from .errors import PayloadTooLarge

__all__ = ["read_body"]


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body exceeds {limit} bytes", limit=limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to exceed `limit`.

    Content-Length is checked first, so an honest large upload is refused before
    a byte is read; streamed bytes are counted too, for chunked bodies and for
    clients that under-declare.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # the server already rejected malformed ones
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)

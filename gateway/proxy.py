"""One upstream call and the translation of its result, at the HTTP client boundary.

The upstream client is the gateway's own (`client.Client`: HTTP/1.1 keep-alive
connections parsed by httptools); the README's performance section has the
measurements that chose it over aiohttp and httpx. Client failures never
escape: they become `UpstreamError` (502) or `UpstreamTimeout` (504), chained
with `from exc`. Retries live in `dispatch`; the client itself only re-sends
an idempotent request whose pooled connection turned out to be closed.

A 2xx answer without a Content-Length (chunked: an NDJSON stream of results) may
be relayed as it arrives instead of read whole (`call(..., stream=True)`): the
caller gets each chunk as soon as the service sends it, and closing the caller's
response closes the upstream connection, so the service sees the caller leave.
The model's timeout bounds a whole answer, or a streamed answer's first byte and
every gap between two chunks. Bodies and headers are passed on byte for byte
either way.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import aclosing
from typing import NamedTuple

from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from .client import (
    Client,
    ConnectFailed,
    ConnectTimeout,
    ReadTimeout,
    Spans,
    Timeouts,
    UpstreamFailure,
)
from .client import Response as Upstream
from .errors import UpstreamError, UpstreamTimeout
from .settings import UpstreamSettings

__all__ = [
    "Answer",
    "Outbound",
    "call",
    "forwardable",
    "open_client",
    "relay",
    "timeouts",
    "to_response",
]

logger = logging.getLogger("gateway.proxy")

# Headers travel as the raw bytes of the wire, so the gateway never re-encodes them.
RawHeader = tuple[bytes, bytes]

# RFC 9110 7.6.1 hop-by-hop fields, never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
    }
)
# Credentials stay at the gateway; the client sets the length. Answers come
# unencoded, as the shadow comparison and the crash-page check read them. The
# gateway has the whole body before it calls, so it answers `Expect` itself.
REQUEST_DROP = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"authorization",
    b"x-api-key",
    b"accept-encoding",
    b"cookie",
    b"expect",
}
# Starlette sets the length of what it sends; the request id is the gateway's to
# set (the middleware adds it to every answer).
RESPONSE_DROP = HOP_BY_HOP | {
    b"content-length",
    b"date",
    b"server",
    b"x-request-id",
}


class Outbound(NamedTuple):
    """A request to send to one version: target (percent-encoded path and query),
    raw headers, raw body."""

    method: str
    target: bytes
    headers: Sequence[RawHeader]
    body: bytes


class Answer(NamedTuple):
    """An upstream's answer: read whole before the connection went back to the pool,
    or (`stream`) still arriving on its open connection, for `relay`."""

    status: int
    headers: Sequence[RawHeader]
    body: bytes
    stream: Upstream | None = None

    @property
    def is_json(self) -> bool:
        return any(k.lower() == b"content-type" and b"json" in v for k, v in self.headers)


def open_client(settings: UpstreamSettings, spans: Spans | None = None) -> Client:
    """The one pooled client towards every model service (and its `/readyz` probes).
    It keeps no cookies (every caller shares it) and reads no proxy settings from the
    environment (an HTTP(S)_PROXY meant for egress must not capture in-cluster calls)."""
    # Idle connections expire below the services' 5 s keep-alive, so the gateway
    # never sends on a connection the service is closing.
    return Client(settings.max_connections, settings.keepalive_expiry_seconds, spans)


@functools.cache  # one immutable object per route setting, not one per call
def timeouts(total: float, connect: float) -> Timeouts:
    """`total` bounds a whole answer, or a stream's first byte and each gap;
    `connect` the TCP connect of a new connection."""
    return Timeouts(read=total, connect=min(connect, total))


def _streamed(upstream: Upstream) -> bool:
    return (
        200 <= upstream.status < 300
        and upstream.status != 204
        and not any(k.lower() == b"content-length" for k, _ in upstream.headers)
    )


def forwardable(headers: Iterable[RawHeader], drop: frozenset[bytes]) -> list[RawHeader]:
    """Headers minus `drop` and whatever a `Connection` header names as hop-by-hop."""
    pairs = [(k.lower(), v) for k, v in headers]
    named = {t.strip() for k, v in pairs if k == b"connection" for t in v.lower().split(b",")}
    return [(k, v) for k, v in pairs if k not in drop and k not in named]


def _failure(exc: UpstreamFailure, who: str, timeout: Timeouts) -> UpstreamError:
    if isinstance(exc, ConnectTimeout):
        return UpstreamError(f"{who} did not accept a connection", reason="connect")
    if isinstance(exc, ConnectFailed):
        return UpstreamError(f"{who} is unreachable", reason="connect")
    if isinstance(exc, ReadTimeout):
        return UpstreamTimeout(f"{who} did not answer within {timeout.read:g}s", reason="timeout")
    # A closed connection, a broken or truncated answer.
    return UpstreamError(f"{who} dropped the connection", reason="disconnect")


async def call(
    client: Client,
    base_url: str,
    out: Outbound,
    timeout: Timeouts,
    who: str,
    stream: bool = False,
) -> Answer:
    """Send `out` to `base_url`; a failed exchange raises an UpstreamError naming `who`.

    With `stream`, a streamed answer comes back open (`Answer.stream`): `relay` it."""
    try:
        upstream = await client.send(
            out.method, base_url, out.target, out.headers, out.body, timeout
        )
        if stream and _streamed(upstream):
            return Answer(upstream.status, upstream.headers, b"", upstream)
        try:
            body = await upstream.read()
        except asyncio.CancelledError:
            upstream.close()  # the caller left: the rest of the answer is not wanted
            raise
    except UpstreamFailure as exc:
        raise _failure(exc, who, timeout) from exc
    return Answer(upstream.status, upstream.headers, body)


class _ClosingStream(StreamingResponse):
    # Starlette iterates the body without closing it: a response cancelled while
    # sending (the caller left) would keep the upstream connection until collected.
    async def stream_response(self, send: Send) -> None:
        async with aclosing(self.body_iterator):  # type: ignore[type-var]
            await super().stream_response(send)


async def _chunks(
    upstream: Upstream,
    timeout: Timeouts,
    who: str,
    finished: Callable[[UpstreamError | None], None],
) -> AsyncIterator[bytes]:
    failure: UpstreamError | None = None
    try:
        async for chunk in upstream.chunks():
            yield chunk
    except UpstreamFailure as exc:
        failure = _failure(exc, who, timeout)
        logger.warning("stream broken off", extra={"reason": failure.message})
        raise failure from exc  # abort the caller's response: it must not look complete
    finally:
        upstream.close()  # at the end, a no-op; before it, the service sees the caller leave
        finished(failure)


def relay(
    upstream: Answer,
    extra: Sequence[RawHeader],
    timeout: Timeouts,
    who: str,
    finished: Callable[[UpstreamError | None], None],
) -> Response:
    """The caller's response to a streamed answer, each chunk passed on as it arrives;
    `finished` is called once the stream has ended, broken off or been abandoned."""
    assert upstream.stream is not None
    drop = RESPONSE_DROP | {k for k, _ in extra}
    response = _ClosingStream(
        _chunks(upstream.stream, timeout, who, finished), status_code=upstream.status
    )
    response.raw_headers = [*forwardable(upstream.headers, drop), *extra]
    return response


def to_response(upstream: Answer, extra: Sequence[RawHeader], who: str) -> Response:
    """The caller's response; a non-JSON 5xx body (a crash page) is replaced by JSON."""
    drop = RESPONSE_DROP | {k for k, _ in extra}
    pairs = forwardable(upstream.headers, drop) + list(extra)
    body = upstream.body
    if upstream.status >= 500 and not upstream.is_json:
        body = json.dumps({"error": f"{who} failed with HTTP {upstream.status}"}).encode()
        pairs = [(k, v) for k, v in pairs if k != b"content-type"]
        pairs.append((b"content-type", b"application/json"))
    response = Response(content=body, status_code=upstream.status)
    response.raw_headers.extend(pairs)
    return response

"""One upstream call and the translation of its result, at the HTTP client boundary.

The upstream client is aiohttp: on the 2-core benchmark machine httpx/httpcore
spent 1.3-1.5 ms of CPU per proxied call against aiohttp's 0.5-0.6 ms, which
alone was the gateway's whole latency budget (see the README's performance
section). Client exceptions never escape: they become `UpstreamError` (502) or
`UpstreamTimeout` (504), chained with `from exc`. Retries live in `dispatch`;
aiohttp itself only re-sends an idempotent request whose pooled connection
turned out to be closed.

A 2xx answer without a Content-Length (chunked: an NDJSON stream of results) may
be relayed as it arrives instead of read whole (`call(..., stream=True)`): the
caller gets each chunk as soon as the service sends it, and closing the caller's
response closes the upstream connection, so the service sees the caller leave.
The model's timeout bounds a whole answer, or a streamed answer's first byte and
every gap between two chunks. Bodies are passed on byte for byte either way.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import aiohttp
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from .errors import BadRequest, UpstreamError, UpstreamTimeout
from .settings import UpstreamSettings

__all__ = [
    "Answer",
    "Outbound",
    "call",
    "forwardable",
    "open_session",
    "outbound_headers",
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
# Credentials stay at the gateway; the client sets the length and asks for no encoding.
REQUEST_DROP = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"authorization",
    b"x-api-key",
    b"accept-encoding",
    b"cookie",
}
# The body is handed over decoded, so the upstream's length and encoding no longer
# apply; the request id is the gateway's to set (the middleware adds it to every answer).
RESPONSE_DROP = HOP_BY_HOP | {
    b"content-length",
    b"content-encoding",
    b"date",
    b"server",
    b"x-request-id",
}
# What aiohttp would add on its own: a made-up content type on a body the caller
# sent without one, and a compression offer the gateway does not want.
NO_AUTO_HEADERS = ("Content-Type", "Accept-Encoding")


@dataclass(frozen=True)
class Outbound:
    """A request to send to one version: path (with query), headers, raw body.

    Header values are text because that is what aiohttp sends (as UTF-8): the
    caller's bytes decoded as UTF-8 (`outbound_headers`), so they go out unchanged.
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """An upstream's answer: read whole before the connection went back to the pool,
    or (`stream`) still arriving on its open connection, for `relay`."""

    status: int
    headers: tuple[RawHeader, ...]
    body: bytes
    stream: aiohttp.ClientResponse | None = None

    @property
    def is_json(self) -> bool:
        return any(k.lower() == b"content-type" and b"json" in v for k, v in self.headers)


def open_session(
    settings: UpstreamSettings, trace_configs: Sequence[aiohttp.TraceConfig] = ()
) -> aiohttp.ClientSession:
    """The one pooled client towards every model service (and its `/readyz` probes)."""
    connector = aiohttp.TCPConnector(
        limit=settings.max_connections,
        # Below the services' 5 s keep-alive, so the gateway closes an idle
        # connection first and never sends on one the service is closing.
        keepalive_timeout=settings.keepalive_expiry_seconds,
    )
    return aiohttp.ClientSession(
        connector=connector,
        skip_auto_headers=NO_AUTO_HEADERS,
        # Every caller shares this session: a cookie an upstream set for one caller
        # (passed on in its answer) must not go out with the next caller's request.
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,  # an HTTP(S)_PROXY meant for egress must not capture in-cluster calls
        trace_configs=list(trace_configs),
    )


@functools.cache  # one immutable object per route setting, not one per call
def timeouts(total: float, connect: float) -> aiohttp.ClientTimeout:
    """`total` bounds a whole answer, or a stream's first byte and each gap (`sock_read`);
    `connect` the TCP connect of a new connection. No aiohttp `total`: it would cut
    a stream that keeps delivering."""
    return aiohttp.ClientTimeout(sock_read=total, sock_connect=min(connect, total))


def _streamed(response: aiohttp.ClientResponse) -> bool:
    return (
        200 <= response.status < 300
        and response.status != 204
        and (response.content_length is None)
    )


def forwardable(headers: Iterable[RawHeader], drop: frozenset[bytes]) -> list[RawHeader]:
    """Headers minus `drop` and whatever a `Connection` header names as hop-by-hop."""
    pairs = [(k.lower(), v) for k, v in headers]
    named = {t.strip() for k, v in pairs if k == b"connection" for t in v.lower().split(b",")}
    return [(k, v) for k, v in pairs if k not in drop and k not in named]


def outbound_headers(headers: Iterable[RawHeader]) -> tuple[tuple[str, str], ...]:
    """Raw caller headers as aiohttp takes them; a value that is not UTF-8 is refused
    (aiohttp sends text as UTF-8, so other bytes could not be forwarded as they came)."""
    texts = []
    for name, value in headers:
        try:
            texts.append((name.decode("latin-1"), value.decode("utf-8")))
        except UnicodeDecodeError:
            raise BadRequest(
                f"header {name.decode('latin-1')!r} is neither ASCII nor UTF-8"
            ) from None
    return tuple(texts)


def _failure(exc: BaseException, who: str, timeout: aiohttp.ClientTimeout) -> UpstreamError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamError(f"{who} did not accept a connection", reason="connect")
    if isinstance(exc, TimeoutError):  # aiohttp's read timeouts subclass it too
        return UpstreamTimeout(
            f"{who} did not answer within {timeout.sock_read:g}s", reason="timeout"
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError(f"{who} is unreachable", reason="connect")
    # A closed connection, a broken or truncated answer.
    return UpstreamError(f"{who} dropped the connection", reason="disconnect")


async def call(
    session: aiohttp.ClientSession,
    base_url: str,
    out: Outbound,
    timeout: aiohttp.ClientTimeout,
    who: str,
    stream: bool = False,
) -> Answer:
    """Send `out` to `base_url`; a failed exchange raises an UpstreamError naming `who`.

    With `stream`, a streamed answer comes back open (`Answer.stream`): `relay` it."""
    response: aiohttp.ClientResponse | None = None
    try:
        async with asyncio.timeout(timeout.sock_read):
            response = await session.request(
                out.method,
                base_url + out.path,
                headers=out.headers,
                data=out.body or None,
                timeout=timeout,
                allow_redirects=False,
            )
            if stream and _streamed(response):
                return Answer(response.status, response.raw_headers, b"", response)
            body = await response.read()
        response.release()
        return Answer(response.status, response.raw_headers, body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        if response is not None:
            response.close()
        raise _failure(exc, who, timeout) from exc


class _ClosingStream(StreamingResponse):
    # Starlette iterates the body without closing it: a response cancelled while
    # sending (the caller left) would keep the upstream connection until collected.
    async def stream_response(self, send: Send) -> None:
        async with aclosing(self.body_iterator):  # type: ignore[type-var]
            await super().stream_response(send)


async def _chunks(
    upstream: aiohttp.ClientResponse,
    timeout: aiohttp.ClientTimeout,
    who: str,
    finished: Callable[[UpstreamError | None], None],
) -> AsyncIterator[bytes]:
    failure: UpstreamError | None = None
    try:
        async for chunk in upstream.content.iter_any():
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        failure = _failure(exc, who, timeout)
        logger.warning("stream broken off", extra={"reason": failure.message})
        raise failure from exc  # abort the caller's response: it must not look complete
    finally:
        upstream.close()  # at the end, a no-op; before it, the service sees the caller leave
        finished(failure)


def relay(
    upstream: Answer,
    extra: Sequence[RawHeader],
    timeout: aiohttp.ClientTimeout,
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

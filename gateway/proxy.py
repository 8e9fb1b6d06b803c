"""One upstream call and the translation of its result, at the HTTP client boundary.

The upstream client is aiohttp: on the 2-core benchmark machine httpx/httpcore
spent 1.3-1.5 ms of CPU per proxied call against aiohttp's 0.5-0.6 ms, which
alone was the gateway's whole latency budget (see the README's performance
section). Client exceptions never escape: they become `UpstreamError` (502) or
`UpstreamTimeout` (504), chained with `from exc`. Retries live in `dispatch`;
aiohttp itself only re-sends an idempotent request whose pooled connection
turned out to be closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiohttp
from starlette.responses import Response

from .errors import BadRequest, UpstreamError, UpstreamTimeout
from .settings import UpstreamSettings

__all__ = [
    "Answer",
    "Outbound",
    "call",
    "forwardable",
    "open_session",
    "outbound_headers",
    "timeouts",
    "to_response",
]

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
    """An upstream's whole answer, read before the connection went back to the pool."""

    status: int
    headers: tuple[RawHeader, ...]
    body: bytes

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
        trust_env=False,  # an HTTP(S)_PROXY meant for egress must not capture in-cluster calls
        trace_configs=list(trace_configs),
    )


def timeouts(total: float, connect: float) -> aiohttp.ClientTimeout:
    """`total` bounds the whole call, `connect` the TCP connect of a new connection."""
    return aiohttp.ClientTimeout(total=total, sock_connect=min(connect, total))


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


async def call(
    session: aiohttp.ClientSession,
    base_url: str,
    out: Outbound,
    timeout: aiohttp.ClientTimeout,
    who: str,
) -> Answer:
    """Send `out` to `base_url`; a failed exchange raises an UpstreamError naming `who`."""
    try:
        async with session.request(
            out.method,
            base_url + out.path,
            headers=out.headers,
            data=out.body or None,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            return Answer(response.status, response.raw_headers, await response.read())
    except aiohttp.ConnectionTimeoutError as exc:
        raise UpstreamError(f"{who} did not accept a connection", reason="connect") from exc
    except TimeoutError as exc:  # aiohttp's read timeouts subclass it too
        raise UpstreamTimeout(
            f"{who} did not answer within {timeout.total:g}s", reason="timeout"
        ) from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamError(f"{who} is unreachable", reason="connect") from exc
    except aiohttp.ClientError as exc:  # closed connection, broken or truncated answer
        raise UpstreamError(f"{who} dropped the connection", reason="disconnect") from exc


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

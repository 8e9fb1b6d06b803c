"""One upstream call and the translation of its result, at the httpx boundary.

httpx exceptions never escape: they become `UpstreamError` (502) or
`UpstreamTimeout` (504), chained with `from exc`. Retries live in `dispatch`,
because httpx's transport retries only cover connect failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from starlette.responses import Response

from .errors import UpstreamError, UpstreamTimeout

__all__ = ["Outbound", "call", "forwardable", "to_response"]

# RFC 9110 7.6.1 hop-by-hop fields, never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)
# Credentials stay at the gateway; length and encoding are recomputed by httpx.
REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "content-length",
    "authorization",
    "x-api-key",
    "accept-encoding",
    "cookie",
}
# httpx hands us a decoded body, so the upstream's length and encoding no longer apply;
# the request id is the gateway's to set (the middleware adds it to every answer).
RESPONSE_DROP = HOP_BY_HOP | {
    "content-length",
    "content-encoding",
    "date",
    "server",
    "x-request-id",
}


@dataclass(frozen=True)
class Outbound:
    """A request to send to one version: path (with query), headers, raw body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def forwardable(headers: Iterable[tuple[str, str]], drop: frozenset[str]) -> list[tuple[str, str]]:
    """Headers minus `drop` and whatever a `Connection` header names as hop-by-hop."""
    pairs = [(k.lower(), v) for k, v in headers]
    named = {t.strip() for k, v in pairs if k == "connection" for t in v.lower().split(",")}
    return [(k, v) for k, v in pairs if k not in drop and k not in named]


async def call(
    client: httpx.AsyncClient, base_url: str, out: Outbound, timeout: httpx.Timeout, who: str
) -> httpx.Response:
    """Send `out` to `base_url`; a failed exchange raises an UpstreamError naming `who`."""
    request = client.build_request(
        out.method,
        base_url + out.path,
        headers=list(out.headers),
        content=out.body,
        timeout=timeout,
    )
    try:
        return await client.send(request)
    except httpx.ConnectTimeout as exc:
        raise UpstreamError(f"{who} did not accept a connection", reason="connect") from exc
    except httpx.TimeoutException as exc:
        seconds = timeout.read
        raise UpstreamTimeout(
            f"{who} did not answer within {seconds:g}s", reason="timeout"
        ) from exc
    except httpx.ConnectError as exc:
        raise UpstreamError(f"{who} is unreachable", reason="connect") from exc
    except httpx.TransportError as exc:
        raise UpstreamError(f"{who} dropped the connection", reason="disconnect") from exc


def to_response(upstream: httpx.Response, extra: dict[str, str], who: str) -> Response:
    """The caller's response; a non-JSON 5xx body (a crash page) is replaced by JSON."""
    drop = RESPONSE_DROP | {k.lower() for k in extra}
    pairs = forwardable(upstream.headers.multi_items(), drop) + list(extra.items())
    body = upstream.content
    if upstream.status_code >= 500 and "json" not in upstream.headers.get("content-type", ""):
        body = json.dumps({"error": f"{who} failed with HTTP {upstream.status_code}"}).encode()
        pairs = [(k, v) for k, v in pairs if k != "content-type"]
        pairs.append(("content-type", "application/json"))
    response = Response(content=body, status_code=upstream.status_code)
    response.raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs)
    return response

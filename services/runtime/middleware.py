"""Plain ASGI middleware (contextvars set here reach the endpoint and back).

`RequestContext` gives every request an id (the caller's `X-Request-Id` or a
new one) and its server span (`tracing.ServerSpan`), echoes both ids in response
headers, counts traffic in the metrics and logs one line per request. Probes,
`/metrics` and the docs are not traffic: they are neither counted nor logged.
One middleware does all of it because each ASGI layer costs a call and a send
wrapper per message, on every request.
"""

from __future__ import annotations

import logging
import random
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import REQUEST_ID
from .metrics import ServiceMetrics
from .tracing import ServerSpan

__all__ = ["NOT_TRAFFIC", "RequestContext"]

NOT_TRAFFIC = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc",
     "/openapi.json", "/favicon.ico"}
)  # fmt: skip
DOCS_ASSETS = "/static-offline-docs/"
"""Swagger UI's and ReDoc's files (fastapi_offline serves them here): not traffic either."""
PAGES_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:"
)
"""HTML pages (/docs, /redoc) load from this server only, whatever their scripts ask for
(ReDoc's footer logo points at a CDN)."""
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
logger = logging.getLogger("modelfleet.access")


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, request_id = _read_headers(scope)
        token = REQUEST_ID.set(request_id)
        traffic = not (scope["path"] in NOT_TRAFFIC or scope["path"].startswith(DOCS_ASSETS))
        span = ServerSpan(scope)
        trace_id = span.trace_id()
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-Id", request_id)
                if trace_id is not None:
                    headers.append("X-Trace-Id", trace_id)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = PAGES_POLICY
            await send(message)

        if traffic:
            self.metrics.inflight.inc()
        try:
            if length is not None and length > self.max_body_bytes:
                # Refuse before reading a byte.
                await _too_large(self.max_body_bytes)(scope, receive, send_with_headers)
            else:
                # A declared length is what the server delivers; only a chunked
                # body needs counting.
                checked = receive if length is not None else _limited(receive, self.max_body_bytes)
                await self.app(scope, checked, send_with_headers)
        finally:
            if traffic:
                self.metrics.inflight.dec()
                self._record(scope, status, time.perf_counter() - started)
            span.close(scope, status)  # after the log line, which carries its trace id
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        handler = _handler(scope)
        self.metrics.request(handler, status, seconds)
        logger.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={"fields": {"status": status, "handler": handler, "ms": round(seconds * 1e3, 2)}},
        )


def _read_headers(scope: Scope) -> tuple[int | None, str]:
    """The declared body length (None when not declared), and the request id: the
    caller's `X-Request-Id` when it is safe to echo, else a new one."""
    length, request_id = None, None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else 0
        elif name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID_OK.match(candidate):
                request_id = candidate
    # 32 hex digits from `random` (seeded from the OS, and again in each forked worker):
    # ids tell requests apart and guard nothing, so no system call per request.
    return length, request_id or f"{random.getrandbits(128):032x}"


def _limited(receive: Receive, limit: int) -> Receive:
    """Count a streamed body (no Content-Length) and stop it at the limit.

    FastAPI passes an HTTPException raised while it reads the body through to
    the error handler, which answers 413 as JSON.
    """
    received = 0

    async def receive_limited() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise HTTPException(413)
        return message

    return receive_limited


def _too_large(limit: int) -> JSONResponse:
    message = f"request body is larger than the limit of {limit} bytes"
    return JSONResponse({"error": message}, status_code=413, headers={"Connection": "close"})


def _handler(scope: Scope) -> str:
    """The matched route's name (low cardinality); `unmatched` for unknown paths."""
    return getattr(scope.get("route"), "name", None) or "unmatched"

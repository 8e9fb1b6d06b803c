"""Plain ASGI middleware (contextvars set here reach the endpoints, unlike BaseHTTPMiddleware)."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsPortMiddleware", "RequestIdMiddleware", "current_request_id"]

METRICS_PATH = "/metrics"

# A caller's id is kept only if it is short and plain, so it is safe in logs and headers.
SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
current_request_id: ContextVar[str] = ContextVar("request_id", default="-")
PAGES_POLICY = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data: blob:"
)
"""HTML pages load from the gateway only, whatever their scripts ask for (ReDoc's footer
logo points at a CDN)."""


def new_request_id() -> str:
    """32 hex digits. Ids tell requests apart and guard nothing, so `random`'s generator
    (seeded from the OS, and again in a forked child) serves, without `secrets`'s
    system call per request."""
    return f"{random.getrandbits(128):032x}"


class RequestIdMiddleware:
    """Give every HTTP request an id (the caller's `X-Request-Id` or a new one) and echo it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, header, *_page_policy(headers)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


def _page_policy(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The same-origin policy for HTML pages (the playground, /docs, /redoc)."""
    html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
    return [(b"content-security-policy", PAGES_POLICY)] if html else []


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if SAFE_ID.match(text) else None
    return None


class MetricsPortMiddleware:
    """With a metrics port, `/metrics` answers there alone and nothing else does: a
    public route to the main port (an Ingress sending `/` on) cannot reach it."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            on_metrics_port = (scope.get("server") or ("", None))[1] == self.port
            if on_metrics_port != (scope["path"] == METRICS_PATH):
                message = (
                    f"only {METRICS_PATH} is served on this port"
                    if on_metrics_port
                    else f"{METRICS_PATH} is served on the gateway's metrics port only"
                )
                await JSONResponse({"error": message}, status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)

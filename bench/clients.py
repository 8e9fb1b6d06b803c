"""The gateway's upstream client, A/B: the gateway's own (`gateway.client`) against
aiohttp (which it replaced) and httpx's API over an aiohttp transport
(`httpx-aiohttp`; httpx is the client the design names).

Each is one minimal ASGI proxy, served like the gateway (one uvicorn process, uvloop,
httptools, no access log), that reads the caller's body, sends it upstream with one
pooled keep-alive client and answers what came back. They differ only by the
client, so the CPU each spends per proxied call, beside the same model service, is
what that client costs.

    MODELFLEET_BENCH_UPSTREAM=http://127.0.0.1:8101 \\
        uvicorn --factory bench.clients:gateway_proxy --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from starlette.types import Receive, Scope, Send

from gateway.client import Client, Timeouts

__all__ = ["CLIENTS", "aiohttp_proxy", "gateway_proxy", "httpx_proxy", "launch_proxy"]

UPSTREAM_ENV = "MODELFLEET_BENCH_UPSTREAM"
Forward = Callable[[str, str, bytes, bytes], Awaitable[tuple[int, bytes, bytes]]]
"""(method, path, content type, body) -> (status, content type, body) from upstream."""


def _proxy(connect: Callable[[str], tuple[Forward, Callable[[], Awaitable[None]]]]) -> Callable:
    upstream = os.environ[UPSTREAM_ENV]
    state: dict[str, Forward] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup: the session needs the running loop
            state["forward"], state["close"] = connect(upstream)  # type: ignore[assignment]
            await send({"type": "lifespan.startup.complete"})
            await receive()  # shutdown
            await state["close"]()  # type: ignore[call-arg]
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        content_type = dict(scope["headers"]).get(b"content-type", b"application/json")
        forward = state["forward"]
        status, answer_type, answer = await forward(
            scope["method"], scope["path"], content_type, body
        )
        headers = [(b"content-type", answer_type), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


def _gateway(upstream: str) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    client = Client(max_connections=256, keepalive_expiry=4.0)
    timeouts = Timeouts(read=30, connect=1)

    async def forward(
        method: str, path: str, content_type: bytes, body: bytes
    ) -> tuple[int, bytes, bytes]:
        headers = [(b"content-type", content_type)]
        response = await client.send(method, upstream, path.encode(), headers, body, timeouts)
        answer = await response.read()
        answer_type = next(v for k, v in response.headers if k.lower() == b"content-type")
        return response.status, answer_type, answer

    return forward, client.aclose


def _aiohttp(upstream: str) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(upstream, auto_decompress=False)

    async def forward(
        method: str, path: str, content_type: bytes, body: bytes
    ) -> tuple[int, bytes, bytes]:
        headers = {"Content-Type": content_type.decode()}
        async with session.request(method, path, data=body, headers=headers) as response:
            answer = await response.read()
            return response.status, response.headers["Content-Type"].encode(), answer

    return forward, session.close


def _httpx(upstream: str) -> tuple[Forward, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(auto_decompress=False)
    client = httpx.AsyncClient(base_url=upstream, transport=AiohttpTransport(client=session))

    async def forward(
        method: str, path: str, content_type: bytes, body: bytes
    ) -> tuple[int, bytes, bytes]:
        headers = {"Content-Type": content_type}
        response = await client.request(method, path, content=body, headers=headers)
        return response.status_code, response.headers["content-type"].encode(), response.content

    return forward, client.aclose


def gateway_proxy() -> Callable:
    return _proxy(_gateway)


def aiohttp_proxy() -> Callable:
    return _proxy(_aiohttp)


def httpx_proxy() -> Callable:
    return _proxy(_httpx)


CLIENTS = {
    "gateway.client": "bench.clients:gateway_proxy",
    "aiohttp": "bench.clients:aiohttp_proxy",
    "httpx-aiohttp": "bench.clients:httpx_proxy",
}
"""Client name -> the proxy's app factory."""


def launch_proxy(factory: str, upstream: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as sink:
        return subprocess.Popen(
            argv, cwd=Path(__file__).resolve().parents[1], stdout=sink, stderr=subprocess.STDOUT,
            env=os.environ | {UPSTREAM_ENV: upstream}, start_new_session=True,
        )  # fmt: skip

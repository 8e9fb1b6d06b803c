"""One upstream call against real sockets: what is sent, and failures mapped to 502/504 JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable

import pytest

from gateway.errors import UpstreamError, UpstreamTimeout
from gateway.proxy import (
    REQUEST_DROP,
    Answer,
    Outbound,
    call,
    forwardable,
    open_client,
    timeouts,
    to_response,
)
from gateway.settings import UpstreamSettings
from tests.processes import free_port

OUT = Outbound("POST", b"/v1/models/iris/predict", ((b"content-type", b"application/json"),), b"{}")
WHO = "model 'iris' v1"
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

# What a fake upstream does with one connection: it gets the reader and writer.
Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


def exchange(behaviour: Behaviour, out: Outbound = OUT, total: float = 2.0) -> Answer:
    """Run one `call` against a loopback server that handles its connection with `behaviour`."""

    async def go() -> Answer:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await behaviour(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with open_client(UpstreamSettings()) as client:
                return await call(client, f"http://127.0.0.1:{port}", out, timeouts(total, 1), WHO)
        finally:
            server.close()

    return asyncio.run(go())


def test_the_request_goes_out_as_the_caller_sent_it_with_nothing_invented() -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(OK)
        await writer.drain()

    # Header values reach the service byte for byte, UTF-8 or not.
    utf8, latin1 = "zoë-7".encode(), "zoë".encode("latin-1")
    headers = [(b"x-user-id", utf8), (b"x-legacy", latin1)]
    raw = Outbound("POST", b"/v1/models/digits/predict?top=3", headers, b"\x00\xffPNG")
    answer = exchange(record, raw)
    assert (answer.status, answer.body) == (200, b"{}")
    head, _, body = seen[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    names = {line.split(b":")[0].lower() for line in lines[1:]}
    assert lines[0] == b"POST /v1/models/digits/predict?top=3 HTTP/1.1"
    assert body == b"\x00\xffPNG" and b"content-length: 5" in lines
    assert b"x-user-id: " + utf8 in lines and b"x-legacy: " + latin1 in lines
    # Nothing invented: no type, no compression offer, no user agent or accept.
    assert names == {b"host", b"x-user-id", b"x-legacy", b"content-length"}


def test_a_cookie_one_caller_was_given_never_goes_out_with_another_callers_request() -> None:
    """The client is shared by every caller: it must not keep upstream cookies. A host
    name, not an IP address (cookie jars commonly ignore cookies from IP hosts)."""
    seen: list[bytes] = []
    answer = b"HTTP/1.1 200 OK\r\nset-cookie: session=alice\r\ncontent-length: 2\r\n\r\n{}"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(asyncio.IncompleteReadError):
                while True:  # keep-alive: both calls may come on this connection
                    seen.append(await _read_request(reader))
                    writer.write(answer)
                    await writer.drain()
        finally:  # also when the test ends with this connection still open
            writer.close()

    async def go() -> list[Answer]:
        server = await asyncio.start_server(handle, "localhost", 0)
        url = f"http://localhost:{server.sockets[0].getsockname()[1]}"
        try:
            async with open_client(UpstreamSettings()) as client:
                return [await call(client, url, OUT, timeouts(2, 1), WHO) for _ in range(2)]
        finally:
            server.close()

    answers = asyncio.run(go())
    assert all((b"set-cookie", b"session=alice") in a.headers for a in answers)  # passed on
    assert len(seen) == 2 and not any(b"\r\ncookie:" in r.lower() for r in seen)


def test_credentials_and_hop_by_hop_headers_are_not_forwarded() -> None:
    headers = [
        (b"Authorization", b"Bearer secret"), (b"X-API-Key", b"secret"),
        (b"Connection", b"x-private"), (b"X-Private", b"1"), (b"Keep-Alive", b"5"),
        (b"Content-Type", b"application/json"),
        (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ]  # fmt: skip
    kept = dict(forwardable(headers, REQUEST_DROP))
    assert kept == {b"content-type": b"application/json", b"traceparent": headers[-1][1]}


def test_a_refused_connection_becomes_a_502_naming_the_version() -> None:
    async def go() -> None:
        async with open_client(UpstreamSettings()) as client:
            url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
            await call(client, url, OUT, timeouts(2, 1), WHO)

    with pytest.raises(UpstreamError) as caught:
        asyncio.run(go())
    assert caught.value.status == 502 and caught.value.reason == "connect"
    assert caught.value.message == "model 'iris' v1 is unreachable"


def test_a_listener_that_never_accepts_is_a_connect_failure_not_a_hang() -> None:
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)  # one queued connection fills it; later SYNs are dropped
        filler = socket.create_connection(full.getsockname(), timeout=1)

        async def go() -> None:
            async with open_client(UpstreamSettings()) as client:
                url = f"http://127.0.0.1:{full.getsockname()[1]}"
                await call(client, url, OUT, timeouts(5, 0.3), WHO)

        with pytest.raises(UpstreamError) as caught:
            asyncio.run(go())
        filler.close()
    assert caught.value.status == 502 and caught.value.reason == "connect"
    assert caught.value.message == "model 'iris' v1 did not accept a connection"


def test_a_silent_upstream_becomes_a_504_after_the_timeout() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    with pytest.raises(UpstreamTimeout) as caught:
        exchange(stall, total=0.3)
    assert caught.value.status == 504 and caught.value.reason == "timeout"
    assert caught.value.message == "model 'iris' v1 did not answer within 0.3s"


@pytest.mark.parametrize(
    "reply",
    [b"", b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"cut', b"not http at all\r\n\r\n"],
    ids=["closed-before-answering", "truncated-body", "garbage"],
)
def test_a_dropped_or_broken_answer_is_a_retryable_502(reply: bytes) -> None:
    async def break_off(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(reply)
        await writer.drain()

    with pytest.raises(UpstreamError) as caught:
        exchange(break_off)
    assert caught.value.status == 502 and caught.value.reason == "disconnect"
    assert caught.value.message == "model 'iris' v1 dropped the connection"


def test_the_upstream_answer_is_passed_on_with_the_answering_version() -> None:
    upstream = Answer(201, (
        (b"Content-Type", b"application/json"), (b"X-Request-Id", b"theirs"),
        (b"Retry-After", b"3"), (b"Content-Length", b"12"), (b"X-Note", "zoë".encode()),
    ), b'{"ok": true}')  # fmt: skip
    response = to_response(upstream, ((b"x-model-version", b"v2"),), "iris v2")
    assert response.status_code == 201 and json.loads(bytes(response.body)) == {"ok": True}
    assert response.headers["x-model-version"] == "v2"
    assert response.headers["retry-after"] == "3"
    assert response.headers["content-length"] == "12"  # exactly one, Starlette's own
    assert "x-request-id" not in response.headers  # the gateway's own id is added later
    assert (b"x-note", "zoë".encode()) in response.raw_headers  # bytes passed on unchanged


def test_a_non_json_server_error_never_reaches_the_caller_as_is() -> None:
    upstream = Answer(500, ((b"content-type", b"text/plain"),), b"Traceback (most recent ...")
    response = to_response(upstream, ((b"x-model-version", b"v1"),), "model 'iris' version 'v1'")
    assert response.headers["content-type"] == "application/json"
    assert json.loads(bytes(response.body)) == {
        "error": "model 'iris' version 'v1' failed with HTTP 500"
    }

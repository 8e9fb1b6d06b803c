"""The gateway's HTTP/1.1 client against real loopback servers, on both event loops
the gateway may run on: pooling, framing, timeouts, retries and flow control.

What a proxied call makes of the client's failures (502/504 and their messages)
is in test_proxy.py; this file is about the client's own promises.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvloop

from gateway.client import (
    Client,
    ConnectFailed,
    Disconnected,
    ReadTimeout,
    Timeouts,
    origin_of,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
TIMEOUTS = Timeouts(read=2, connect=1)
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Awaitable[Any]], Any]:
    """Runs a coroutine on the event loop under test."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def go(coroutine: Awaitable[Any]) -> Any:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coroutine)  # type: ignore[arg-type]

    return go


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line[15:])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


class Server:
    """A loopback server: each connection handled by `handler`; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.open_now = 0
        self.most_open = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                await self.handler(reader, writer)
        finally:
            self.open_now -= 1
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()


def answering(*replies: bytes) -> Handler:
    """Reads one request per reply and writes the reply, then waits for the client to leave."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            await read_request(reader)
            writer.write(reply)
            await writer.drain()
        await reader.read()

    return handle


def keep_alive(reply: bytes = OK) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(reply)
            await writer.drain()

    return handle


async def get(client: Client, url: str, method: str = "GET", **kwargs: Any) -> tuple[int, bytes]:
    response = await client.send(method, url, b"/", [], b"", kwargs.get("timeouts", TIMEOUTS))
    return response.status, await response.read()


def test_sequential_calls_share_one_kept_alive_connection(run: Callable) -> None:
    server = Server(keep_alive())

    async def go() -> list[tuple[int, bytes]]:
        async with server.running() as url, Client(10, 4.0) as client:
            return [await get(client, url) for _ in range(3)]

    assert run(go()) == [(200, b"ok")] * 3
    assert server.connections == 1


def test_an_idle_connection_is_not_reused_after_the_keepalive_expiry(run: Callable) -> None:
    server = Server(keep_alive())

    async def go() -> None:
        async with server.running() as url, Client(10, keepalive_expiry=0.05) as client:
            await get(client, url)
            await asyncio.sleep(0.1)
            await get(client, url)

    run(go())
    assert server.connections == 2


def test_a_connection_the_service_asks_to_close_is_not_reused(run: Callable) -> None:
    closing = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
    server = Server(answering(closing))

    async def go() -> list[tuple[int, bytes]]:
        async with server.running() as url, Client(10, 4.0) as client:
            return [await get(client, url) for _ in range(2)]

    assert run(go()) == [(200, b"ok")] * 2
    assert server.connections == 2


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("POST", False)])
def test_only_an_idempotent_request_is_sent_again_when_a_reused_connection_was_closed(
    run: Callable, method: str, retried: bool
) -> None:
    """The service closed the idle connection just as the second request went out on it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server.connections == 1:  # answer once, then drop the next request unanswered
            await read_request(reader)
            writer.write(OK)
            await writer.drain()
            await read_request(reader)
            return
        await keep_alive()(reader, writer)

    server = Server(handle)

    async def go() -> tuple[int, bytes] | type[Exception]:
        async with server.running() as url, Client(10, 4.0) as client:
            await get(client, url, method)
            try:
                return await get(client, url, method)
            except Disconnected as exc:
                return type(exc)

    assert run(go()) == ((200, b"ok") if retried else Disconnected)
    assert server.connections == (2 if retried else 1)


def test_no_more_connections_than_the_limit_and_callers_wait_their_turn(run: Callable) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(OK)
            await writer.drain()

    server = Server(slow)

    async def go() -> list[tuple[int, bytes]]:
        async with server.running() as url, Client(2, 4.0) as client:
            return await asyncio.gather(*(get(client, url) for _ in range(6)))

    assert run(go()) == [(200, b"ok")] * 6
    assert server.most_open == 2


def test_the_limit_closes_an_idle_connection_to_another_service_to_make_room(
    run: Callable,
) -> None:
    first, second = Server(keep_alive()), Server(keep_alive())

    async def go() -> list[tuple[int, bytes]]:
        async with first.running() as one, second.running() as two, Client(1, 4.0) as client:
            answers = [await get(client, one), await get(client, two)]
            await asyncio.sleep(0.05)  # the server side notices the close
            assert first.open_now == 0
            return answers

    assert run(go()) == [(200, b"ok")] * 2


def test_an_interim_100_continue_is_skipped(run: Callable) -> None:
    server = Server(answering(b"HTTP/1.1 100 Continue\r\n\r\n" + OK))

    async def go() -> tuple[int, bytes]:
        async with server.running() as url, Client(10, 4.0) as client:
            return await get(client, url, "POST")

    assert run(go()) == (200, b"ok")


def test_a_body_framed_by_the_close_ends_with_it(run: Callable) -> None:
    async def handle_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")
        await writer.drain()

    server = Server(handle_then_close)

    async def go() -> tuple[int, bytes]:
        async with server.running() as url, Client(10, 4.0) as client:
            return await get(client, url)

    assert run(go()) == (200, b"all of it")


def test_a_base_url_with_a_path_prefixes_every_request(run: Callable) -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()

    server = Server(record)

    async def go() -> None:
        async with server.running() as url, Client(10, 4.0) as client:
            response = await client.send("GET", url + "/iris/", b"/readyz?x=1", [], b"", TIMEOUTS)
            await response.read()

    run(go())
    assert seen[0].startswith(b"GET /iris/readyz?x=1 HTTP/1.1\r\nhost: 127.0.0.1:")


def test_only_plain_http_base_urls_are_taken() -> None:
    with pytest.raises(ValueError, match="http:// URLs only"):
        origin_of("https://iris-v1:8443")


def chunked(*pieces: bytes) -> Iterator[bytes]:
    yield b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n"
    for piece in pieces:
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def test_pieces_arrive_as_sent_and_the_timeout_bounds_each_gap(run: Callable) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for part in chunked(b"one\n", b"two\n", b"three\n"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.15)  # each gap under the timeout, the whole over it
        await reader.read()

    server = Server(trickle)

    async def go() -> list[bytes]:
        async with server.running() as url, Client(10, 4.0) as client:
            response = await client.send("POST", url, b"/", [], b"{}", Timeouts(0.4, 1))
            return [piece async for piece in response.chunks()]

    assert run(go()) == [b"one\n", b"two\n", b"three\n"]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_silent_service_times_out_and_its_connection_is_closed(
    run: Callable, streamed: bool
) -> None:
    async def stall_after_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(next(chunked()))
        await writer.drain()
        await reader.read()  # until the client gives up

    server = Server(stall_after_head)

    async def go() -> None:
        async with server.running() as url, Client(10, 4.0) as client:
            response = await client.send("POST", url, b"/", [], b"{}", Timeouts(0.2, 1))
            with pytest.raises(ReadTimeout):
                if streamed:
                    [piece async for piece in response.chunks()]
                else:
                    await response.read()
            await asyncio.sleep(0.05)
            assert server.open_now == 0

    run(go())


def test_a_reader_that_falls_behind_stops_the_socket_being_read(run: Callable) -> None:
    """A slow caller of a streamed answer holds the service back instead of the
    gateway buffering the whole answer."""
    piece = b"x" * 65536
    sent: list[int] = [0]

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(next(chunked()))
        for _ in range(1024):  # 64 MiB, far more than the socket buffers hold
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            sent[0] += len(piece)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    server = Server(flood)

    async def go() -> int:
        async with server.running() as url, Client(10, 4.0) as client:
            response = await client.send("POST", url, b"/", [], b"{}", TIMEOUTS)
            pieces = response.chunks()
            await anext(pieces)
            await asyncio.sleep(0.5)  # the reader dawdles; the service keeps sending
            held_back = sent[0]
            received = sum([len(p) async for p in pieces])
            assert received + len(piece) == 1024 * len(piece)
            return held_back

    assert run(go()) < 32 * 1024 * 1024


def test_a_cancelled_call_closes_its_connection_and_the_next_call_gets_a_new_one(
    run: Callable,
) -> None:
    async def first_stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server.connections == 1:
            await read_request(reader)
            await reader.read()  # never answers; returns when the client closes
            return
        await keep_alive()(reader, writer)

    server = Server(first_stalls)

    async def go() -> tuple[int, bytes]:
        async with server.running() as url, Client(10, 4.0) as client:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await get(client, url)
            await asyncio.sleep(0.05)
            assert server.open_now == 0  # the service saw the caller leave
            return await get(client, url)

    assert run(go()) == (200, b"ok")
    assert server.connections == 2


def test_a_closed_port_is_a_connect_failure(run: Callable) -> None:
    from tests.processes import free_port

    async def go() -> None:
        async with Client(10, 4.0) as client:
            await get(client, f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ConnectFailed):
        run(go())


def test_bytes_nobody_asked_for_close_the_connection(run: Callable) -> None:
    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK + OK)  # a second answer to a single request
        await writer.drain()
        await reader.read()

    server = Server(chatty)

    async def go() -> list[tuple[int, bytes]]:
        async with server.running() as url, Client(10, 4.0) as client:
            return [await get(client, url), await get(client, url)]

    assert run(go()) == [(200, b"ok")] * 2
    assert server.connections == 2

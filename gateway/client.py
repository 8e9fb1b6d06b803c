"""The gateway's HTTP/1.1 client towards the model services.

Keep-alive connections on asyncio protocols, answers parsed by httptools (llhttp,
the parser uvicorn reads the gateway's own requests with). It replaces aiohttp,
whose per-call work was the largest single cost of a proxied request: as the
whole upstream client of a minimal proxy in front of the same service (the
client A/B of `make bench`, README *Performance*), aiohttp, pyreqwest and
aiosonic each spent about twice this client's CPU per call.

It speaks what the services need and nothing more: HTTP/1.1 to `http://` base
URLs; no TLS, proxies, redirects, cookies or compression. Bodies and header
values go out byte for byte as given.

- `Client.send` writes a request in one go (request line, `host`, the given
  headers, `content-length`, the body) and returns once the answer's status and
  headers have arrived. Then `Response.read()` gives the whole body,
  `Response.chunks()` each piece as it arrives, and `Response.close()` gives
  up on the rest, closing the connection so the service sees the caller leave.
- Timeouts: `read` bounds the time from sending to the whole answer (`read()`),
  or to its head and then each gap between two pieces (`chunks()`); `connect`
  bounds opening a new connection.
- Failures raise `ConnectFailed` (refused or unresolvable), `ConnectTimeout`,
  `ReadTimeout` or `Disconnected` (closed early, truncated, not HTTP).
- Idle connections are kept per service and reused most recent first, never
  after `keepalive_expiry` seconds idle (set below the services' keep-alive, so
  the gateway does not send on a connection the service is closing). At most
  `max_connections` are open at once; further calls wait for one. An
  idempotent request whose reused connection closed before any byte of the
  answer arrived is sent once more, on a new connection.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

__all__ = [
    "Client",
    "ConnectFailed",
    "ConnectTimeout",
    "Disconnected",
    "Origin",
    "ReadTimeout",
    "Response",
    "Timeouts",
    "UpstreamFailure",
    "origin_of",
]

RawHeader = tuple[bytes, bytes]
# RFC 9110 9.2.2: safe to send twice.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Methods whose request always states a length, an empty body included.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PAUSE_AT = 256 * 1024
"""Bytes of an answer waiting for a slow reader at which the socket stops being read."""


class UpstreamFailure(Exception):
    """An exchange that did not produce a whole answer."""


class ConnectFailed(UpstreamFailure):
    """No connection: refused, or the host name did not resolve."""


class ConnectTimeout(ConnectFailed):
    """The service did not accept a connection within the connect timeout."""


class ReadTimeout(UpstreamFailure):
    """The answer (or, read in chunks, its next piece) did not come in time."""


class Disconnected(UpstreamFailure):
    """The connection closed before the answer was whole, or it was not HTTP."""


@dataclass(frozen=True)
class Timeouts:
    read: float
    connect: float


@dataclass(frozen=True)
class Origin:
    """Where a base URL's requests go: one pool of connections each."""

    host: str
    port: int
    authority: bytes
    """The `host` header."""
    prefix: bytes
    """The base URL's own path, put before every request's."""


@functools.lru_cache(maxsize=4096)  # base URLs come from the routes table: a few per model
def origin_of(base_url: str) -> Origin:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{base_url!r}: the gateway reaches services at http:// URLs only")
    return Origin(
        host=parts.hostname,
        port=parts.port or 80,
        authority=parts.netloc.encode("idna"),
        prefix=parts.path.rstrip("/").encode("ascii"),
    )


def request_head(
    method: str, origin: Origin, target: bytes, headers: Sequence[RawHeader], body: bytes
) -> bytes:
    """The request line and headers, ready to write. The header values come from a
    request the server has parsed or from the gateway itself, so they hold no line breaks."""
    lines = [b"%s %s%s HTTP/1.1" % (method.encode("ascii"), origin.prefix, target)]
    lines.append(b"host: " + origin.authority)
    lines.extend([name + b": " + value for name, value in headers])
    if body or method in BODY_METHODS:
        lines.append(b"content-length: %d" % len(body))
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


class Response:
    """One answer: its status and headers, and its body as it arrives."""

    def __init__(self, connection: _Connection, timeout: float) -> None:
        self._connection: _Connection | None = connection
        self._loop = connection.loop
        self._timeout = timeout
        self._timer = self._loop.call_later(timeout, self._time_out)
        self._waiter: asyncio.Future[None] | None = None
        self._pieces: deque[bytes] = deque()
        self._waiting_bytes = 0
        self._streaming = False
        self._done = False
        self._error: UpstreamFailure | None = None
        self.status = 0
        self.headers: list[RawHeader] = []
        self.received = False
        """Whether any byte of the answer arrived."""

    async def read(self) -> bytes:
        """The whole body."""
        while not self._done:
            await self._wait()
        if self._error is not None:
            raise self._error
        return b"".join(self._pieces)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body piece by piece, each as soon as it arrived."""
        self._streaming = True
        self._waiting_bytes = sum(map(len, self._pieces))
        self._rearm()
        while True:
            if self._pieces:
                piece = self._pieces.popleft()
                self._waiting_bytes -= len(piece)
                if self._connection is not None and self._waiting_bytes < PAUSE_AT:
                    self._connection.resume_reading()
                yield piece
            elif self._done:
                if self._error is not None:
                    raise self._error
                return
            else:
                await self._wait()

    def close(self) -> None:
        """Give up on what has not arrived: the connection closes, never to be reused."""
        connection = self._connection
        if connection is not None:
            self.failed(Disconnected("the answer was abandoned"))
            connection.abort()

    # What the connection reports.

    def headed(self, status: int, headers: list[RawHeader]) -> None:
        self.status, self.headers = status, headers
        self._wake()

    def fed(self, piece: bytes) -> None:
        self._pieces.append(piece)
        if self._streaming:
            self._waiting_bytes += len(piece)
            if self._waiting_bytes >= PAUSE_AT and self._connection is not None:
                self._connection.pause_reading()
            self._rearm()
        self._wake()

    def completed(self) -> None:
        self._connection = None
        self._done = True
        self._timer.cancel()
        self._wake()

    def lost(self, exc: Exception | None) -> None:
        """The connection closed: the end of a body framed by a clean close, else a failure."""
        if exc is None and self.status and _framed_by_close(self.status, self.headers):
            self.completed()
        else:
            self.failed(Disconnected("the connection closed before the answer was whole"))

    def failed(self, error: UpstreamFailure) -> None:
        if not self._done:
            self._error = error
            self.completed()

    def _time_out(self) -> None:
        connection = self._connection
        self.failed(ReadTimeout(f"no answer within {self._timeout:g}s"))
        if connection is not None:
            connection.abort()

    def _rearm(self) -> None:
        if not self._done:
            self._timer.cancel()
            self._timer = self._loop.call_later(self._timeout, self._time_out)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def arrived(self) -> None:
        """Wait for the status and headers."""
        while not self.status and not self._done:
            await self._wait()
        if self._error is not None and not self.status:
            raise self._error


def _framed_by_close(status: int, headers: list[RawHeader]) -> bool:
    """An answer whose body runs until the connection closes (RFC 9112 6.3, item 8)."""
    if status in (204, 304):
        return False
    framing = (b"content-length", b"transfer-encoding")
    return not any(name.lower() in framing for name, _ in headers)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request on it at a time."""

    def __init__(self, client: Client, origin: Origin) -> None:
        self.client = client
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self.idle_since = 0.0
        self.reused = False
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._response: Response | None = None
        self._headers: list[RawHeader] = []
        self._interim = False
        self._paused = False

    def request(self, head: bytes, body: bytes, timeout: float) -> Response:
        assert self._transport is not None and self._response is None
        self._response = response = Response(self, timeout)
        self._transport.write(head + body)
        return response

    @property
    def closing(self) -> bool:
        """Closed by the service, its `connection_lost` not yet delivered."""
        return self._transport is None or self._transport.is_closing()

    def abort(self) -> None:
        self._response = None
        self._forget()
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        self._forget()
        if self._transport is not None:
            self._transport.close()

    def pause_reading(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()

    def _forget(self) -> None:
        if not self.closed:
            self.closed = True
            self.client._dropped(self)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        response = self._response
        if response is None:  # bytes nobody asked for: the connection is out of step
            self.abort()
            return
        response.received = True
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, Disconnected):
            if self._response is not None:
                self._response.failed(Disconnected("the answer is not HTTP"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        response, self._response = self._response, None
        if response is not None:
            response.lost(exc)

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._response is None:
            raise Disconnected("an answer nobody asked for")
        self._headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        self._interim = 100 <= status < 200  # "100 Continue" and friends precede the answer
        if not self._interim and self._response is not None:
            self._response.headed(status, self._headers)

    def on_body(self, body: bytes) -> None:
        if self._response is not None:
            self._response.fed(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        response, self._response = self._response, None
        if response is not None:
            response.completed()
        if self._parser.should_keep_alive() and not self.closed:
            self.resume_reading()
            self.client._release(self)
        else:
            self.close()


Spans = Callable[[str, Origin, bytes, Sequence[RawHeader]], Any]
"""Opens a client span for a request: (method, origin, target, headers) -> an object
whose `headers` carry the trace on and whose `end(status)` / `fail(exc)` close it."""


class Client:
    """Pooled connections to every model service (see the module docstring)."""

    def __init__(
        self, max_connections: int, keepalive_expiry: float, spans: Spans | None = None
    ) -> None:
        self._limit = max_connections
        self._expiry = keepalive_expiry
        self._spans = spans
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._connecting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def send(
        self,
        method: str,
        base_url: str,
        target: bytes,
        headers: Sequence[RawHeader],
        body: bytes,
        timeouts: Timeouts,
    ) -> Response:
        """Send a request; the answer once its head has arrived. `target`: the path
        and query, percent-encoded."""
        origin = origin_of(base_url)
        if self._spans is None:
            return await self._send(method, origin, target, headers, body, timeouts)
        span = self._spans(method, origin, target, headers)
        try:
            response = await self._send(method, origin, target, span.headers, body, timeouts)
        except BaseException as exc:
            span.fail(exc)
            raise
        span.end(response.status)
        return response

    async def _send(
        self,
        method: str,
        origin: Origin,
        target: bytes,
        headers: Sequence[RawHeader],
        body: bytes,
        timeouts: Timeouts,
    ) -> Response:
        head = request_head(method, origin, target, headers, body)
        retried = False
        while True:
            connection = await self._connection(origin, timeouts.connect)
            response = connection.request(head, body, timeouts.read)
            try:
                await response.arrived()
            except Disconnected:
                # The service closed an idle connection as the request went out on it.
                stale = connection.reused and not response.received and method in IDEMPOTENT
                if stale and not retried:
                    retried = True
                    continue
                raise
            except BaseException:
                response.close()  # cancelled: the rest of the answer must not reach the pool
                raise
            return response

    async def _connection(self, origin: Origin, connect_timeout: float) -> _Connection:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since < self._expiry and not connection.closing:
                connection.reused = True
                return connection
            connection.close()
        if len(self._open) + self._connecting >= self._limit and not self._evict():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
            return await self._connection(origin, connect_timeout)
        return await self._connect(origin, connect_timeout)

    async def _connect(self, origin: Origin, connect_timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        self._connecting += 1
        try:
            async with asyncio.timeout(connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(self, origin), origin.host, origin.port
                )
        except TimeoutError as exc:
            raise ConnectTimeout(f"not accepted within {connect_timeout:g}s") from exc
        except OSError as exc:
            raise ConnectFailed(str(exc)) from exc
        finally:
            self._connecting -= 1
            self._wake_one()
        connection: _Connection = protocol
        if self._closed:
            connection.close()
            raise ConnectFailed("the client is closed")
        self._open.add(connection)
        return connection

    def _evict(self) -> bool:
        """Close the longest idle connection to any service, making room for another."""
        oldest = min(
            (pool[0] for pool in self._idle.values() if pool),
            key=lambda c: c.idle_since,
            default=None,
        )
        if oldest is None:
            return False
        oldest.close()
        return True

    def _release(self, connection: _Connection) -> None:
        if self._closed:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._wake_one()

    def _dropped(self, connection: _Connection) -> None:
        self._open.discard(connection)
        pool = self._idle.get(connection.origin)
        if pool and connection in pool:
            pool.remove(connection)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        """Close every connection, idle or busy."""
        self._closed = True
        for connection in list(self._open):
            connection.abort()
        await asyncio.sleep(0)  # let the transports finish closing

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

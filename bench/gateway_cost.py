"""What one proxied request costs the gateway in-process, with no server or load generator.

    python -m bench.gateway_cost --requests 2000

Builds the gateway (`gateway.app:create_app`) with a routes table whose one
model, iris, is served by a fake upstream in the same event loop (it answers
every request with the same iris answer at once), runs the lifespan, then sends
`--requests` predict requests straight into the ASGI app, one after another,
and prints the process CPU time per request. The gateway's own work is all
there: routing, the upstream call over a loopback socket, metrics, request ids.
Instruction counts, unlike seconds, do not move with the neighbours:

    export PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1
    valgrind --tool=callgrind --callgrind-out-file=a python -m bench.gateway_cost --requests 100
    valgrind --tool=callgrind --callgrind-out-file=b python -m bench.gateway_cost --requests 1100

(b's total minus a's, over 1000, is one request's instructions, start-up excluded.)
The routes-file watcher and the ejection prober are left out: they tick with wall
time, which valgrind stretches, and cost nothing per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import uvloop

from .asgi_cost import cpu_seconds, one_request
from .payloads import iris

__all__ = ["main"]

ANSWER = (
    b'{"model":"iris","version":"v1","predictions":[{"species":"setosa",'
    b'"probabilities":{"setosa":0.97,"versicolor":0.03,"virginica":0.0}}]}'
)
REPLY = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
    b"x-model-version: v1\r\n\r\n%s" % (len(ANSWER), ANSWER)
)


class _Upstream(asyncio.Protocol):
    """Answers each request (head and Content-Length body) with REPLY."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = next(
                (int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                 if k.lower() == b"content-length"),
                0,
            )  # fmt: skip
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.transport.write(REPLY)


async def _idle(*args: Any) -> None:
    await args[-1].wait()  # the lifespan's stop event


async def _drive(requests: int, bodies: tuple[bytes, ...]) -> float:
    import gateway.app

    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    routes = Path(tempfile.mkdtemp(prefix="bench-routes-")) / "routes.yaml"
    routes.write_text(
        f"models:\n  iris:\n    versions:\n      v1: {{url: 'http://127.0.0.1:{port}', weight: 100}}\n"
    )
    os.environ["MODELFLEET_ROUTES_FILE"] = str(routes)
    gateway.app.watch_file = _idle  # type: ignore[assignment]
    gateway.app.readmit_ejected = _idle  # type: ignore[assignment]
    app = gateway.app.create_app()
    path = "/models/iris/predict"
    async with app.router.lifespan_context(app):
        for index in range(20):  # a warm connection and code
            await one_request(app, path, bodies[index % len(bodies)])
        return await cpu_seconds(app, path, bodies, requests)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("MODELFLEET_LOG_LEVEL", "warning")
    seconds = uvloop.run(_drive(args.requests, iris().bodies))
    print(f"gateway: {seconds / args.requests * 1e6:.1f} us of CPU per proxied request")


if __name__ == "__main__":
    main()

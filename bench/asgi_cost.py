"""What one request costs an app in-process, with no server, socket or load generator.

    python -m bench.asgi_cost services.runtime.app:create_app --requests 300
    python -m bench.asgi_cost bench.reference:create_app --requests 300

Builds the app from the usual settings (MODELFLEET_MODEL, default iris; the
registry), runs its lifespan, then sends `--requests` predict requests with the
benchmark's bodies straight into the ASGI app, one after another, and prints the
process CPU time per request (all threads: the model thread too). On a shared
machine that figure moves with the neighbours; instruction counts do not:

    valgrind --tool=callgrind --callgrind-out-file=a python -m bench.asgi_cost APP --requests 100
    valgrind --tool=callgrind --callgrind-out-file=b python -m bench.asgi_cost APP --requests 400

(b's total minus a's, over 300, is one request's instructions, start-up excluded.)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import tempfile
import time
from typing import Any

from .payloads import PAYLOADS

__all__ = ["cpu_seconds", "main", "one_request"]


async def one_request(app: Any, path: str, body: bytes) -> int:
    """POST `body` to `path` straight into the ASGI app; the answer's status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _drive(app: Any, model: str, bodies: tuple[bytes, ...], requests: int) -> float:
    path = f"/v1/models/{model}/predict"
    async with app.router.lifespan_context(app):
        while await one_request(app, path, bodies[0]) != 200:  # 503 until loaded and warmed
            await asyncio.sleep(0.05)
        return await cpu_seconds(app, path, bodies, requests)


async def cpu_seconds(app: Any, path: str, bodies: tuple[bytes, ...], requests: int) -> float:
    """The process CPU time of `requests` predicts, one after another; each must answer 200."""
    started = time.process_time()
    for index in range(requests):
        if (code := await one_request(app, path, bodies[index % len(bodies)])) != 200:
            raise RuntimeError(f"request {index} answered {code}")
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.asgi_cost", description=__doc__)
    parser.add_argument("app", help="an app factory, module:function")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    model = os.environ.setdefault("MODELFLEET_MODEL", "iris")
    os.environ.setdefault("MODELFLEET_VERSION", "v1")
    # What gunicorn_conf makes for a server: the multiprocess metrics and ready folders.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    from services.runtime.workers import DIRECTORY_ENV

    os.environ[DIRECTORY_ENV] = tempfile.mkdtemp(prefix="bench-ready-")
    module, factory = args.app.removesuffix("()").split(":")
    app = getattr(importlib.import_module(module), factory)()
    seconds = asyncio.run(_drive(app, model, PAYLOADS[model]().bodies, args.requests))
    print(f"{args.app}: {seconds / args.requests * 1e6:.1f} us of CPU per request")


if __name__ == "__main__":
    main()

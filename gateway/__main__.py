"""`python -m gateway`: one uvicorn process serving the gateway, configured by MODELFLEET_*.

With `MODELFLEET_SERVER__METRICS_PORT` the same server listens on a second
socket, where only `/metrics` answers (`MetricsPortMiddleware`).
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from .app import create_app
from .logs import configure_logging
from .settings import GatewaySettings, ServerSettings


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _sockets(server: ServerSettings) -> list[socket.socket] | None:
    """The sockets to serve; None lets uvicorn bind host:port itself."""
    if server.fd is None and server.metrics_port is None:
        return None
    # socket(fileno=) detects the family; uvicorn's own `fd` option assumes a Unix socket.
    main = (
        _listen(server.host, server.port) if server.fd is None else socket.socket(fileno=server.fd)
    )
    if server.metrics_port is None:
        return [main]
    return [main, _listen(server.host, server.metrics_port)]


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,  # keep the JSON handler configured above
        access_log=False,  # metrics count requests; a line per request is noise at this rate
        timeout_keep_alive=settings.server.keepalive_seconds,
        timeout_graceful_shutdown=settings.server.graceful_timeout_seconds,
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=_sockets(settings.server))
    if not server.started:  # as `uvicorn.run` does: a failed start is a failed exit
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()

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
from .settings import GatewaySettings


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    server = settings.server
    config = uvicorn.Config(
        create_app(settings),
        host=server.host,
        port=server.port,
        log_config=None,  # keep the JSON handler configured above
        access_log=False,  # metrics count requests; a line per request is noise at this rate
        timeout_keep_alive=server.keepalive_seconds,
        timeout_graceful_shutdown=server.graceful_timeout_seconds,
        lifespan="on",
        server_header=False,
    )
    ports = [server.port] if server.metrics_port is None else [server.port, server.metrics_port]
    uvicorn_server = uvicorn.Server(config)
    uvicorn_server.run(sockets=[_listen(server.host, port) for port in ports])
    if not uvicorn_server.started:  # as uvicorn.run: a failed startup is a failed exit
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()

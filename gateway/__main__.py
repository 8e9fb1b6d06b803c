"""`python -m gateway`: one uvicorn process serving the gateway, configured by MODELFLEET_*."""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from .app import create_app
from .logs import configure_logging
from .settings import GatewaySettings


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
    inherited = settings.server.fd
    # socket(fileno=) detects the family; uvicorn's own `fd` option assumes a Unix socket.
    sockets = None if inherited is None else [socket.socket(fileno=inherited)]
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:  # as `uvicorn.run` does: a failed start is a failed exit
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()

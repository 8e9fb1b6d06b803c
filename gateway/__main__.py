"""`python -m gateway`: one uvicorn process serving the gateway, configured by MODELFLEET_*."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .logs import configure_logging
from .settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    uvicorn.run(
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


if __name__ == "__main__":
    main()

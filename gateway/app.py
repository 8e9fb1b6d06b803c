"""The gateway app factory: `uvicorn --factory gateway.app:create_app` or `python -m gateway`.

Run ONE process per pod and scale with replicas: guard windows, ejections and
the routes table live in memory, and a single process keeps them consistent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from importlib.metadata import version as package_version

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from .api import model_router, status_router
from .auth import KeyStore
from .dispatch import Dispatcher
from .ejection import Ejector
from .errors import install_error_handlers
from .fleet import Fleet
from .metrics import create_metrics
from .middleware import MetricsPortMiddleware, RequestIdMiddleware
from .openapi import install_openapi
from .playground import install_playground
from .probe import readmit_ejected
from .proxy import open_client
from .reload import watch_file
from .routes import RoutesError, load_routes
from .settings import GatewaySettings
from .shadow import ShadowSender
from .tracing import client_spans, export_configured, instrument_app

__all__ = ["create_app"]

logger = logging.getLogger("gateway.app")


def _install_routes(fleet: Fleet, settings: GatewaySettings) -> None:
    try:
        fleet.install(load_routes(settings.routes_file))
    except RoutesError as exc:
        raise RuntimeError(f"cannot start: routes file {settings.routes_file}: {exc}") from exc


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _lifespan(settings: GatewaySettings, fleet: Fleet, traced: bool) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _install_routes(fleet, settings)
        keys = KeyStore(settings.api_keys_file) if settings.api_keys_file else None
        app.state.api_keys = keys
        stop = asyncio.Event()
        background = [
            watch_file(settings.routes_file, partial(fleet.reload, settings.routes_file), stop)
        ]
        if keys is not None:
            background.append(watch_file(keys.path, keys.reload, stop))
        spans = client_spans() if traced else None
        async with open_client(settings.upstream, spans) as client:
            shadow = ShadowSender(client, fleet.metrics, settings.shadow.max_inflight)
            app.state.client = client
            app.state.dispatcher = Dispatcher(client, fleet, shadow, settings)
            readiness_timeout = settings.upstream.readiness_timeout_seconds
            background.append(readmit_ejected(fleet, client, readiness_timeout, stop))
            tasks = [asyncio.create_task(w) for w in background]
            logger.info(
                "gateway ready",
                extra={"routes_file": str(settings.routes_file), "auth": keys is not None},
            )
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                await shadow.aclose()

    return lifespan


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """Build a gateway; routes and keys are read at startup (lifespan), not here."""
    settings = settings or GatewaySettings()
    metrics = create_metrics()
    ejector = Ejector(settings.eject.failures, settings.eject.cooldown_seconds)
    fleet = Fleet(metrics, ejector, settings.guard_state_file)
    traced = export_configured()
    # Swagger UI and ReDoc from files shipped in a package, not a CDN (see the runtime).
    app = FastAPIOffline(
        # The server spans are instrument_app's, when an exporter is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="modelfleet gateway",
        version=package_version("modelfleet"),
        description="Routes requests to model versions: weighted canaries, pinning, sticky "
        "callers, shadow traffic, retries and a canary guard.",
        lifespan=_lifespan(settings, fleet, traced),
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.api_keys = None
    if traced:
        instrument_app(app)
    install_error_handlers(app)
    # The routes go on the app itself, the routed model paths first: they carry nearly
    # all the traffic, the router tries routes in order, and an included router would
    # be matched through on every request (FastAPI keeps it nested).
    app.router.routes[:0] = model_router().routes
    app.router.routes.extend(status_router(fleet).routes)
    install_playground(app)
    app.add_middleware(RequestIdMiddleware)
    install_openapi(app, fleet)
    if settings.server.metrics_port is not None:
        app.add_middleware(MetricsPortMiddleware, port=settings.server.metrics_port)
    return app

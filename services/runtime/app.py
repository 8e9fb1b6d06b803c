"""The app factory: one FastAPI app serving one model version.

gunicorn calls `create_app()` in each worker; nothing happens at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from .errors import install_error_handlers
from .logs import configure_logging
from .metrics import render_metrics
from .middleware import RequestContext
from .model import Model
from .oip import oip_router
from .responses import RETRY_AFTER, declared_only
from .service import ModelService, model_class
from .settings import RuntimeSettings
from .tracing import setup_tracing
from .training import Retrainable
from .training_api import training_router
from .typed import typed_router

__all__ = ["create_app"]


def create_app(
    settings: RuntimeSettings | None = None, model: Model[Any, Any] | None = None
) -> FastAPI:
    """Build the app; by default the settings come from the environment and the
    model from `services.<settings.model>`."""
    settings = settings or RuntimeSettings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    setup_tracing(settings.service_name, settings.version)
    model = model or model_class(settings.model)(torch_threads=settings.torch_threads)
    cls = type(model)
    service = ModelService(settings, model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    # /docs and /redoc load Swagger UI and ReDoc from files shipped in the package:
    # a cluster without internet egress still shows its docs.
    app = FastAPIOffline(
        title=f"modelfleet · {settings.model} {settings.version}",
        summary=f"{cls.framework} model {settings.model!r}, version {settings.version}",
        version=settings.version,
        lifespan=lifespan,
        # Our middleware opens the server span (see `tracing`); FastAPI's own telemetry
        # would open a second one.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    # The routes go on the app itself, the model's own first: they carry nearly all the
    # traffic, the router tries routes in order, and an included router would be
    # matched through on every request (FastAPI keeps it nested).
    routers = [
        typed_router(cls, settings.max_instances),
        oip_router(settings.model, settings.version),
    ]
    if issubclass(cls, Retrainable):
        routers.append(training_router(cls, settings.training.max_examples))
    app.router.routes[:0] = [route for router in routers for route in router.routes]
    _add_probes(app, service)
    app.add_middleware(
        RequestContext, metrics=service.metrics, max_body_bytes=settings.max_body_bytes
    )
    declared_only(app)
    return app


class Readiness(BaseModel):
    ready: bool
    model: str
    version: str
    reason: str | None = None
    """Why not, e.g. `loading` or `1 of 2 workers still loading`."""


PROMETHEUS_TEXT = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}


def _add_probes(app: FastAPI, service: ModelService) -> None:
    @app.get("/healthz", tags=["probes"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["probes"],
        summary="Readiness: every worker loaded and warmed the model",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready", "headers": RETRY_AFTER}},
    )
    async def readyz() -> JSONResponse:
        reason = service.unready_reason()
        body: dict[str, Any] = {
            "ready": reason is None,
            "model": service.name,
            "version": service.version,
        }
        if reason is None:
            return JSONResponse(body)
        body["reason"] = reason
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    @app.get(
        "/metrics", tags=["probes"], summary="Prometheus metrics of all workers",
        response_class=Response, responses=PROMETHEUS_TEXT,
    )  # fmt: skip
    async def metrics(request: Request) -> Response:
        payload, content_type = render_metrics(service.metrics)
        return Response(payload, media_type=content_type)

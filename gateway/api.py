"""The gateway's HTTP surface: routed model paths, the fleet listing, probes, metrics."""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import require_api_key
from .dispatch import Dispatcher
from .fleet import Fleet
from .listing import describe_fleet
from .targets import Target, oip_target, v1_target

__all__ = ["model_router", "status_router"]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# The body is forwarded untouched, so the docs describe it loosely: the model's own
# /docs (or `GET /models/{name}`) has the typed schema.
BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "multipart/form-data": {"schema": {"type": "object"}},
        },
    }
}
ROUTING_DOC = (
    "Headers: `X-Model-Version` pins a version; the model's sticky header (e.g. `X-User-Id`) "
    "keeps a caller on one version. The answer names its version in `X-Model-Version`."
)


def _dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


async def _forward(request: Request, target: Target) -> Response:
    with request.app.state.metrics.inflight.track_inprogress():
        return await _dispatcher(request).dispatch(request, target)


def model_router() -> APIRouter:
    """`/models/{name}/...` and `/v2/models/{name}/...`, both behind the API key check."""
    router = APIRouter(dependencies=[Depends(require_api_key)], tags=["models"])

    @router.api_route(
        "/models/{name}",
        methods=["GET"],
        summary="Model metadata (stable version)",
        description=ROUTING_DOC,
    )
    async def model_metadata(name: str, request: Request) -> Response:
        return await _forward(request, v1_target("GET", name, "", request.url.query))

    @router.api_route(
        "/models/{name}/{rest:path}",
        methods=METHODS,
        openapi_extra=BODY,
        summary="Routed model action (predict, answer, train, ...)",
        description=ROUTING_DOC,
    )
    async def model_action(name: str, rest: str, request: Request) -> Response:
        target = v1_target(request.method, name, rest, request.url.query)
        return await _forward(request, target)

    @router.api_route(
        "/v2/models/{name}",
        methods=["GET"],
        summary="OIP model metadata",
        tags=["Open Inference Protocol (V2)"],
    )
    async def oip_metadata(name: str, request: Request) -> Response:
        return await _forward(request, oip_target("GET", name, "", request.url.query))

    @router.api_route(
        "/v2/models/{name}/{rest:path}",
        methods=["GET", "POST"],
        openapi_extra=BODY,
        summary="OIP passthrough (infer, ready, versions/{v}/...)",
        tags=["Open Inference Protocol (V2)"],
        description=ROUTING_DOC,
    )
    async def oip(name: str, rest: str, request: Request) -> Response:
        target = oip_target(request.method, name, rest, request.url.query)
        return await _forward(request, target)

    return router


def status_router(fleet: Fleet) -> APIRouter:
    """Probes and metrics stay open; the fleet listing needs a key like the models do."""
    router = APIRouter(tags=["gateway"])

    @router.get("/healthz", summary="Liveness: the event loop answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: a routes table is loaded")
    async def readyz() -> Response:
        if fleet.ready:
            return Response('{"status":"ready"}', media_type="application/json")
        return Response(
            '{"status":"not ready"}',
            status_code=503,
            media_type="application/json",
            headers={"Retry-After": "1"},
        )

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(fleet.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/models",
        dependencies=[Depends(require_api_key)],
        summary="Every model with its versions: weight, url, readiness, guard state",
    )
    async def models(request: Request) -> dict[str, Any]:
        timeout = request.app.state.settings.upstream.readiness_timeout_seconds
        return await describe_fleet(fleet, request.app.state.session, timeout)

    _oip_health(router, fleet)
    return router


def _oip_health(router: APIRouter, fleet: Fleet) -> None:
    """OIP server endpoints, so standard OIP clients can probe the gateway itself."""

    @router.get("/v2", tags=["Open Inference Protocol (V2)"], summary="OIP server metadata")
    async def server_metadata() -> dict[str, Any]:
        return {
            "name": "modelfleet-gateway",
            "version": package_version("modelfleet"),
            "extensions": [],
        }

    @router.get("/v2/health/live", tags=["Open Inference Protocol (V2)"])
    async def live() -> Response:
        return Response(status_code=200)

    @router.get("/v2/health/ready", tags=["Open Inference Protocol (V2)"])
    async def ready() -> Response:
        return Response(status_code=200 if fleet.ready else 400)

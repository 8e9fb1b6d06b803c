"""The gateway's HTTP surface: routed model paths, the fleet listing, probes, metrics."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from importlib.metadata import version as package_version
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from .auth import require_api_key
from .dispatch import Dispatcher
from .fleet import Fleet
from .listing import describe_fleet
from .openapi import EMPTY, RETRY_AFTER, answers
from .targets import Target, oip_target, v1_target

__all__ = ["ProxyRoute", "model_router", "status_router"]

# Protocol extensions the gateway passes through as they come, headers and binary
# body included, and that every model service speaks.
EXTENSIONS = ["binary_tensor_data"]
OIP = "Open Inference Protocol (V2)"
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
# The body is forwarded untouched, so the docs describe it loosely: the model's own
# /docs (or `GET /models/{name}`) has the typed schema.
BODY = {"requestBody": {"required": False, "content": {
    **JSON_OBJECT, "multipart/form-data": {"schema": {"type": "object"}},
}}}  # fmt: skip
# JSON as documented; the binary tensor data extension (`Inference-Header-Content-Length`,
# binary after the JSON) passes through too, but OpenAPI cannot tie that body to its header.
OIP_BODY = {"requestBody": {"required": True, "content": JSON_OBJECT}}
ROUTING_DOC = (
    "Headers: `X-Model-Version` pins a version; the model's sticky header (e.g. `X-User-Id`) "
    "keeps a caller on one version. The answer names its version in `X-Model-Version`."
)
ROUTED = (400, 401, 404, 502, 503, 504)
"""What any routed request may meet at the gateway itself."""
PICTURE = {"image/*": {"schema": {"type": "string", "format": "binary"}}}
NDJSON = {"application/x-ndjson": {"itemSchema": {"type": "object"}}}
ACTION_DOC = "The model service's answer, passed on"
# JSON, a picture (a predict whose output is one, when `Accept` prefers it) or, on
# POST, NDJSON (a streaming action: one JSON object per line, relayed as it arrives).
# POST first: the router tries routes in order, and inference carries nearly all traffic.
ACTION_ANSWERS = {
    "POST": {
        200: {"description": ACTION_DOC, "content": {**JSON_OBJECT, **PICTURE, **NDJSON}},
        202: {"description": "Accepted: a training job started", "content": JSON_OBJECT},
        **answers(*ROUTED, 405, 406, 409, 413, 415, 422, 500),
    },
    "GET": {
        200: {"description": ACTION_DOC, "content": {**JSON_OBJECT, **PICTURE}},
        **answers(*ROUTED, 405, 406, 422, 500),
    },
}
HEALTH = {200: {"description": "Yes", **EMPTY}, 400: {"description": "No", **EMPTY}}
# The OIP model paths, under /v2/models/{name} and /v2/models/{name}/versions/{version}.
OIP_ROUTES = (
    ("", "GET", "OIP model metadata", {
        200: {"description": "Inputs and outputs", "content": JSON_OBJECT}, **answers(*ROUTED),
    }, {}),
    ("/ready", "GET", "OIP model readiness, by status alone",
     {**HEALTH, **answers(401, 404, 502, 503, 504)}, {}),  # its 400 is the empty "no"
    ("/infer", "POST", "OIP inference, with JSON or binary tensors", {
        200: {"description": "The outputs; binary ones after the JSON, whose length "
              "`Inference-Header-Content-Length` gives", "content": {**JSON_OBJECT, **BINARY}},
        **answers(*ROUTED, 413, 415, 500),
    }, OIP_BODY),
)  # fmt: skip


class GatewayReadiness(BaseModel):
    status: Literal["ready", "not ready"]


def _dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


def _query(request: Request) -> str:
    """The raw query string, as `request.url.query` gives it without building the URL."""
    query: bytes = request.scope["query_string"]
    return query.decode("latin-1")


async def _forward(request: Request, target: Target) -> Response:
    with request.app.state.metrics.inflight.track_inprogress():
        return await _dispatcher(request).dispatch(request, target)


class ProxyRoute(APIRoute):
    """A routed model path: documented from its endpoint like any route, but served
    without FastAPI's per-request parameter solving and request wrapper, the
    largest costs of the gateway's own work (README, *Performance*). Nothing needs
    them: the parameters are path segments passed on as text, the body is
    forwarded untouched, the API key check, the one step before the endpoint, is
    called here, and there is no dependency to close after the answer. An error
    goes on to the app's exception handlers, which render it as for any route."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        handle = self.get_route_handler()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handle(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if self.dependencies:
            raise TypeError(f"{self.path}: a ProxyRoute runs no route dependencies")
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            await require_api_key(request)
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handle


def model_router() -> APIRouter:
    """`/models/{name}/...` and `/v2/models/{name}/...`, both behind the API key check."""
    router = APIRouter(route_class=ProxyRoute, tags=["models"])

    async def model_action(name: str, rest: str, request: Request) -> Response:
        target = v1_target(request.method, name, rest, _query(request))
        return await _forward(request, target)

    for method, responses in ACTION_ANSWERS.items():
        router.add_api_route(
            "/models/{name}/{rest:path}", model_action, methods=[method],
            openapi_extra=BODY if method == "POST" else None, responses=responses,
            summary="Routed model action (predict, answer, train, ...)", description=ROUTING_DOC,
        )  # fmt: skip

    @router.api_route(
        "/models/{name}",
        methods=["GET"],
        summary="Model metadata (stable version)",
        description=ROUTING_DOC,
        responses=answers(*ROUTED),
    )
    async def model_metadata(name: str, request: Request) -> Response:
        return await _forward(request, v1_target("GET", name, "", _query(request)))

    for suffix, method, summary, responses, body in OIP_ROUTES:
        for path, endpoint in _oip_endpoints(method, suffix):
            router.add_api_route(
                path, endpoint, methods=[method], summary=summary, tags=[OIP],
                description=ROUTING_DOC, responses=responses, openapi_extra=body,
                response_class=Response,
            )  # fmt: skip
    return router


def _oip_endpoints(method: str, suffix: str) -> list[tuple[str, Any]]:
    """The unversioned and the versioned endpoint of one OIP model path."""

    async def unversioned(name: str, request: Request) -> Response:
        target = oip_target(method, name, suffix.lstrip("/"), _query(request))
        return await _forward(request, target)

    async def versioned(name: str, version: str, request: Request) -> Response:
        target = oip_target(method, name, f"versions/{version}{suffix}", _query(request))
        return await _forward(request, target)

    return [
        (f"/v2/models/{{name}}{suffix}", unversioned),
        (f"/v2/models/{{name}}/versions/{{version}}{suffix}", versioned),
    ]


def status_router(fleet: Fleet) -> APIRouter:
    """Probes and metrics stay open; the fleet listing needs a key like the models do."""
    router = APIRouter(tags=["gateway"])

    @router.get("/healthz", summary="Liveness: the event loop answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: a routes table is loaded",
        response_model=GatewayReadiness,
        responses={503: {"model": GatewayReadiness, "headers": RETRY_AFTER}},
    )
    async def readyz() -> Response:
        if fleet.ready:
            return Response('{"status":"ready"}', media_type="application/json")
        return Response(
            '{"status":"not ready"}',
            status_code=503,
            media_type="application/json",
            headers={"Retry-After": "1"},
        )

    @router.get(
        "/metrics", summary="Prometheus metrics", response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    async def metrics() -> Response:
        return Response(generate_latest(fleet.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/models",
        dependencies=[Depends(require_api_key)],
        summary="Every model with its versions: weight, url, readiness, guard state",
        responses=answers(401, 503),
    )
    async def models(request: Request) -> dict[str, Any]:
        settings = request.app.state.settings
        timeout = settings.upstream.readiness_timeout_seconds
        return await describe_fleet(
            fleet, request.app.state.client, timeout, settings.max_body_bytes
        )

    _oip_health(router, fleet)
    return router


def _oip_health(router: APIRouter, fleet: Fleet) -> None:
    """OIP server endpoints, so standard OIP clients can probe the gateway itself."""

    @router.get("/v2", tags=[OIP], summary="OIP server metadata")
    async def server_metadata() -> dict[str, Any]:
        return {
            "name": "modelfleet-gateway",
            "version": package_version("modelfleet"),
            "extensions": EXTENSIONS,
        }

    @router.get("/v2/health/live", tags=[OIP], response_class=Response, responses=HEALTH)
    async def live() -> Response:
        return Response(status_code=200)

    @router.get("/v2/health/ready", tags=[OIP], response_class=Response, responses=HEALTH)
    async def ready() -> Response:
        return Response(status_code=200 if fleet.ready else 400)

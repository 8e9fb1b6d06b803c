"""Open Inference Protocol (KServe V2) REST endpoints, per the specification.

Health endpoints answer with the status only (200 true, 400 false, empty
body); metadata and inference answer JSON, errors `{"error": "..."}`.
"""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Any, Literal

from fastapi import APIRouter, Response
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field

from .dependencies import Service, check_model, check_model_version, require_media_type
from .errors import BadRequest
from .tensors import DATATYPES, decode_inputs, encode_outputs

__all__ = ["oip_router"]

tracer = trace.get_tracer("modelfleet.runtime")
Datatype = Literal[tuple(sorted(DATATYPES))]  # type: ignore[valid-type]


class RequestTensor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    shape: list[int] = Field(min_length=1)
    datatype: Datatype
    parameters: dict[str, Any] | None = None
    data: list[Any]


class RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestTensor] = Field(min_length=1)
    outputs: list[RequestedOutput] | None = None


def oip_router() -> APIRouter:
    router = APIRouter(prefix="/v2", tags=["Open Inference Protocol (V2)"])

    @router.get("", name="v2_server_metadata")
    async def server_metadata() -> dict[str, Any]:
        return {"name": "modelfleet", "version": package_version("modelfleet"), "extensions": []}

    @router.get("/health/live", name="v2_live")
    async def live() -> Response:
        return Response(status_code=200)

    @router.get("/health/ready", name="v2_ready")
    async def ready(service: Service) -> Response:
        return Response(status_code=200 if service.unready_reason() is None else 400)

    _model_routes(router, "/models/{name}", "", check_model)
    _model_routes(router, "/models/{name}/versions/{version}", "_versioned", check_model_version)
    return router


def _model_routes(router: APIRouter, prefix: str, suffix: str, check: Any) -> None:

    @router.get(prefix, name=f"v2_model_metadata{suffix}", dependencies=[check])
    async def model_metadata(service: Service) -> dict[str, Any]:
        return {
            "name": service.name,
            "versions": [service.version],
            "platform": service.model.framework,
            "inputs": [spec.metadata() for spec in service.input_specs],
            "outputs": [spec.metadata() for spec in service.output_specs],
        }

    @router.get(f"{prefix}/ready", name=f"v2_model_ready{suffix}", dependencies=[check])
    async def model_ready(service: Service) -> Response:
        return Response(status_code=200 if service.unready_reason() is None else 400)

    @router.post(
        f"{prefix}/infer",
        name=f"v2_infer{suffix}",
        dependencies=[check, require_media_type("application/json")],
    )
    async def infer(body: InferenceRequest, service: Service) -> dict[str, Any]:
        with tracer.start_as_current_span("decode"):
            tensors = [t.model_dump() for t in body.inputs]
            rows = decode_inputs(tensors, service.input_specs, service.model.Input)
        if len(rows) > service.settings.max_instances:
            raise BadRequest(
                f"batch of {len(rows)} exceeds the limit of {service.settings.max_instances}"
            )
        predictions = await service.predict(rows)
        with tracer.start_as_current_span("encode"):
            outputs = encode_outputs(predictions, service.output_specs)
            if body.outputs is not None:
                outputs = _select(outputs, [o.name for o in body.outputs])
        response: dict[str, Any] = {
            "model_name": service.name,
            "model_version": service.version,
            "outputs": outputs,
        }
        if body.id is not None:
            response["id"] = body.id
        return response


def _select(outputs: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    by_name = {o["name"]: o for o in outputs}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise BadRequest(f"unknown output(s) {unknown}; available {sorted(by_name)}")
    return [by_name[n] for n in names]

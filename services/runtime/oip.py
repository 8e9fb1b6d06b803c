"""Open Inference Protocol (KServe V2) REST endpoints, per the specification.

Health endpoints answer with the status only (200 true, 400 false, empty
body); metadata and inference answer JSON, errors `{"error": "..."}`.
Inference speaks the binary tensor data extension too (`binary.py`), as
tritonclient does by default.
"""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from .binary import (
    EXTENSION,
    OCTET_STREAM,
    BinaryTensorRoute,
    binary_data,
    binary_response,
    decode,
)
from .dependencies import Service, check_model, check_model_version
from .errors import BadRequest, TensorError
from .responses import EMPTY, answers
from .service import ModelService
from .tensors import DATATYPES, decode_inputs, encode_outputs

__all__ = ["InferenceRequest", "InferenceResponse", "oip_router"]

tracer = trace.get_tracer("modelfleet.runtime")
Datatype = Literal[tuple(sorted(DATATYPES))]  # type: ignore[valid-type]
# Parameters of extensions this server does not implement: ignoring them would
# answer something else than the client asked for.
UNSUPPORTED = {
    "shared_memory_region": "shared-memory",
    "shared_memory_byte_size": "shared-memory",
    "shared_memory_offset": "shared-memory",
    "classification": "classification",
}


class _Parameters(BaseModel):
    """Protocol parameters: the ones below are read, others pass as the protocol allows."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _supported(self) -> _Parameters:
        for key in self.model_extra or {}:
            if key in UNSUPPORTED:
                raise ValueError(f"{key}: the {UNSUPPORTED[key]} extension is not supported")
        return self


class InputParameters(_Parameters):
    binary_data_size: StrictInt | None = Field(
        None, ge=0, description="Bytes of this input's data in the binary part of the body"
    )


class RequestTensor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    shape: list[StrictInt] = Field(min_length=1, description="Dimensions, batch first")
    datatype: Datatype
    parameters: InputParameters | None = None
    data: list[Any] | None = Field(
        None, description="Row-major flat or nested values; absent when `binary_data_size` is set"
    )


class OutputParameters(_Parameters):
    binary_data: StrictBool | None = Field(
        None, description="Answer this output in the binary part of the body"
    )


class RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    parameters: OutputParameters | None = None


class RequestParameters(_Parameters):
    binary_data_output: StrictBool = Field(
        False, description="Answer every output in binary unless it says otherwise"
    )


class InferenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    parameters: RequestParameters | None = None
    inputs: list[RequestTensor] = Field(min_length=1)
    outputs: list[RequestedOutput] | None = None


class ResponseTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: Datatype
    parameters: dict[str, Any] | None = Field(
        None, description="`binary_data_size` when the data is in the binary part"
    )
    data: list[Any] | None = Field(None, description="Row-major flat values")


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[ResponseTensor]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class TensorMetadata(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1 marks the batch dimension")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


INFER_OK = {
    "model": InferenceResponse,
    "description": "The outputs: JSON, or with any binary output `application/octet-stream`: "
    "the JSON (`Inference-Header-Content-Length` bytes long), then the binary data",
    "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
}
INFER_DOC = (
    "The body is the JSON below, with or without a JSON Content-Type. With the binary tensor "
    "data extension it is that JSON, `Inference-Header-Content-Length` bytes long, followed "
    "by the inputs' data (`binary_data_size` each, in input order), as "
    "`application/octet-stream` or without a type; outputs asked for with `binary_data` (or "
    "all, with the request parameter `binary_data_output`) are answered the same way."
)
HEALTH = {200: {"description": "Yes", **EMPTY}, 400: {"description": "No", **EMPTY}}


def oip_router(model: str, version: str) -> APIRouter:
    """The protocol's routes for the one `model` `version` this service serves."""
    router = APIRouter(prefix="/v2", tags=["Open Inference Protocol (V2)"])

    @router.get("", name="v2_server_metadata", response_model=ServerMetadata)
    async def server_metadata() -> dict[str, Any]:
        version = package_version("modelfleet")
        return {"name": "modelfleet", "version": version, "extensions": [EXTENSION]}

    @router.get("/health/live", name="v2_live", response_class=Response, responses=HEALTH)
    async def live() -> Response:
        return Response(status_code=200)

    @router.get("/health/ready", name="v2_ready", response_class=Response, responses=HEALTH)
    async def ready(service: Service) -> Response:
        return Response(status_code=200 if service.unready_reason() is None else 400)

    _model_routes(router, "/models/{name}", "", check_model(model))
    versioned = check_model_version(model, version)
    _model_routes(router, "/models/{name}/versions/{version}", "_versioned", versioned)
    return router


def _model_routes(router: APIRouter, prefix: str, suffix: str, check: Any) -> None:

    @router.get(
        prefix, name=f"v2_model_metadata{suffix}", dependencies=[check],
        response_model=ModelMetadata, responses=answers(404),
    )  # fmt: skip
    async def model_metadata(service: Service) -> dict[str, Any]:
        return {
            "name": service.name,
            "versions": [service.version],
            "platform": service.model.framework,
            "inputs": [spec.metadata() for spec in service.input_specs],
            "outputs": [spec.metadata() for spec in service.output_specs],
        }

    @router.get(
        f"{prefix}/ready", name=f"v2_model_ready{suffix}", dependencies=[check],
        response_class=Response, responses={**HEALTH, **answers(404)},
    )  # fmt: skip
    async def model_ready(service: Service) -> Response:
        return Response(status_code=200 if service.unready_reason() is None else 400)

    async def infer(body: InferenceRequest, service: Service, request: Request) -> Response:
        with tracer.start_as_current_span("decode"):
            tensors = _input_tensors(body.inputs, binary_data(request))
            rows = decode_inputs(tensors, service.input_specs, service.model.Input)
        if len(rows) > service.settings.max_instances:
            raise BadRequest(
                f"batch of {len(rows)} exceeds the limit of {service.settings.max_instances}"
            )
        predictions = await service.predict(rows)
        with tracer.start_as_current_span("encode"):
            return _answer(body, service, encode_outputs(predictions, service.output_specs))

    router.add_api_route(
        f"{prefix}/infer", infer, methods=["POST"], name=f"v2_infer{suffix}",
        dependencies=[check], route_class_override=BinaryTensorRoute, strict_content_type=False,
        response_model=InferenceResponse, description=INFER_DOC,
        responses={200: INFER_OK, **answers(400, 404, 413, 415, 500, 503)},
    )  # fmt: skip


def _input_tensors(inputs: list[RequestTensor], binary: bytes) -> list[dict[str, Any]]:
    """Each input with its data, from the JSON or from its share of the binary part."""
    tensors, offset = [], 0
    for tensor in inputs:
        size = tensor.parameters.binary_data_size if tensor.parameters else None
        if size is None:
            if tensor.data is None:
                raise TensorError(f"input {tensor.name!r} has neither data nor binary_data_size")
            data = tensor.data
        else:
            if tensor.data is not None:
                raise TensorError(f"input {tensor.name!r} has both data and binary_data_size")
            if offset + size > len(binary):
                raise TensorError(
                    f"input {tensor.name!r}: binary_data_size {size} runs past the end of the "
                    f"{len(binary)} bytes of binary data"
                )
            data = decode(binary[offset : offset + size], tensor.datatype, tensor.name)
            offset += size
        tensors.append({**tensor.model_dump(include={"name", "shape", "datatype"}), "data": data})
    if offset != len(binary):
        raise TensorError(f"{len(binary) - offset} bytes of binary data belong to no input")
    return tensors


def _wanted(body: InferenceRequest, available: list[str]) -> list[tuple[str, bool]]:
    """The outputs to answer, in order, each with whether it goes in binary."""
    default = body.parameters.binary_data_output if body.parameters else False
    if body.outputs is None:
        return [(name, default) for name in available]
    names = [o.name for o in body.outputs]
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise BadRequest(f"unknown output(s) {unknown}; available {sorted(available)}")
    if len(set(names)) < len(names):
        raise BadRequest(f"an output is asked for twice in {names}")
    return [
        (o.name, default if o.parameters is None or o.parameters.binary_data is None
         else o.parameters.binary_data)
        for o in body.outputs
    ]  # fmt: skip


def _answer(
    body: InferenceRequest, service: ModelService, outputs: list[dict[str, Any]]
) -> Response:
    by_name = {output["name"]: output for output in outputs}
    wanted = _wanted(body, list(by_name))
    header: dict[str, Any] = {"model_name": service.name, "model_version": service.version}
    if body.id is not None:
        header["id"] = body.id
    header["outputs"] = [by_name[name] for name, _ in wanted]
    binary = [by_name[name] for name, as_binary in wanted if as_binary]
    return binary_response(header, binary) if binary else JSONResponse(header)

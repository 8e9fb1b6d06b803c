"""The typed REST API built from a model's schemas: predict, metadata, actions.

`POST /v1/models/{name}/predict` takes one instance or `{"instances": [...]}`;
a callable discriminator picks the shape, so a validation error names the
field of the shape the caller meant rather than both alternatives. A schema with
picture fields is sent as a multipart form instead (`forms`); an output with
picture fields may be answered as the picture itself (`negotiation`); a model with
`query_predict` also answers `GET .../predict?...` (`query`); a streaming action
answers NDJSON (`streaming`).
"""

# No `from __future__ import annotations` here: the endpoints below are built at
# run time and FastAPI must see their body types as objects, not strings.
import inspect
from typing import Annotated, Any, Union

from fastapi import APIRouter, Body, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
    model_validator,
)
from starlette.concurrency import run_in_threadpool

from .dependencies import check_model
from .errors import ModelfleetError
from .forms import FORM, form_openapi, read_form
from .json_route import JsonBodyRoute
from .model import Action, Model
from .negotiation import answer, negotiate, responses
from .pictures import picture_fields
from .query import add_query_predict
from .responses import MODEL_422, answers
from .service import ModelService
from .streaming import stream, stream_openapi

__all__ = ["preprocess_upload", "typed_router"]

JSON = "application/json"
# What a route that runs the model on a body (JSON or a form) can answer besides 200 and 404.
BODY_ANSWERS = {**answers(400, 413, 415, 500, 503), 422: MODEL_422}
tracer = trace.get_tracer("modelfleet.runtime")


def _integral_as_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_as_int(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_as_int(item) for item in value]
    return value


def _strict(schema: type[BaseModel]) -> type[BaseModel]:
    """`schema` as a JSON body validates: JSON types as the OpenAPI document (JSON Schema)
    states them. No `false` for an integer, no `"5.1"` for a number (pydantic's strict
    mode), and `3.0` is the integer 3 (which strict mode alone would refuse)."""

    @model_validator(mode="before")
    @classmethod
    def json_numbers(cls: type[BaseModel], data: Any) -> Any:
        return _integral_as_int(data)

    namespace = {
        "model_config": {**schema.model_config, "strict": True},
        "json_numbers": json_numbers,
        "__module__": schema.__module__,
        "__doc__": schema.__doc__,
    }
    return type(schema.__name__, (schema,), namespace)


def _request_types(model: type[Model[Any, Any]], max_instances: int) -> tuple[Any, Any]:
    instance = _strict(model.Input)
    bulk = create_model(
        f"{model.Input.__name__}Batch",
        __config__=ConfigDict(extra="forbid", strict=True),
        instances=(list[instance], Field(min_length=1, max_length=max_instances)),  # type: ignore[valid-type]
    )
    body = Annotated[
        Union[Annotated[instance, Tag("instance")], Annotated[bulk, Tag("bulk")]],  # noqa: UP007
        Discriminator(lambda v: "bulk" if isinstance(v, dict) and "instances" in v else "instance"),
    ]
    response = create_model(
        f"{model.Output.__name__}Response",
        model=(str, ...),
        version=(str, ...),
        predictions=(list[model.Output], ...),  # type: ignore[name-defined]
    )
    return body, response


def typed_router(model: type[Model[Any, Any]], max_instances: int) -> APIRouter:
    # No router-wide `check_model`: each route has its own, which also checks the media
    # type and hands over the service, so a request solves one dependency, not three.
    router = APIRouter(
        prefix="/v1/models/{name}", tags=[f"{model.name} (typed)"], responses=answers(404)
    )
    target = Annotated[ModelService, check_model(model.name)]
    body_type, response_type = _request_types(model, max_instances)
    examples = (model.Input.model_config.get("json_schema_extra") or {}).get("examples", [])
    openapi_examples = {"one instance": {"value": examples[0]}} if examples else {}
    if examples:
        openapi_examples["bulk"] = {"value": {"instances": examples}}

    async def predict(
        body: Annotated[body_type, Body(openapi_examples=openapi_examples)],  # type: ignore[valid-type]
        request: Request,
        service: Annotated[ModelService, check_model(model.name, JSON)],
    ) -> Any:
        items = body.instances if hasattr(body, "instances") else [body]
        return await _predictions(service, items, response_type, request)

    if model.raw_media_types:
        _add_upload_predict(router, model, response_type)
    elif picture_fields(model.Input):
        _add_form_predict(router, model, response_type)
    else:
        router.add_api_route(
            "/predict", predict, methods=["POST"], name="predict", response_model=response_type,
            summary=f"Predict with {model.name}", route_class_override=JsonBodyRoute,
            responses={**BODY_ANSWERS, **responses(model.Output)},
        )  # fmt: skip
    if model.query_predict:
        add_query_predict(router, model, response_type, _predictions, target)

    @router.get("", name="model_metadata", summary="Model metadata")
    async def metadata(service: target) -> dict[str, Any]:  # type: ignore[valid-type]
        return service.metadata()

    for action in model.actions:
        if action.stream and not inspect.isgeneratorfunction(getattr(model, action.method)):
            raise TypeError(f"{model.__name__}.{action.method} must be a generator (stream=True)")
        _add_action(router, model.name, action)
    return router


def _add_upload_predict(router: APIRouter, model: type[Model[Any, Any]], response: Any) -> None:
    async def predict_upload(
        file: Annotated[list[UploadFile], File(description="One or more files to predict on")],
        request: Request,
        service: Annotated[ModelService, check_model(model.name, FORM)],
    ) -> Any:
        service.require_ready()
        with tracer.start_as_current_span("preprocess"):
            items = [
                await preprocess_upload(service, i, upload) for i, upload in enumerate(file, 1)
            ]
        return await _predictions(service, items, response, request)

    router.add_api_route(
        "/predict", predict_upload, methods=["POST"], name="predict", response_model=response,
        summary=f"Predict with {model.name} from uploaded files",
        responses={**BODY_ANSWERS, **responses(model.Output)},
    )  # fmt: skip


def _add_form_predict(router: APIRouter, model: type[Model[Any, Any]], response: Any) -> None:
    async def predict_form(
        request: Request, service: Annotated[ModelService, check_model(model.name, FORM)]
    ) -> Any:
        service.require_ready()
        with tracer.start_as_current_span("preprocess"):
            item = await read_form(request, model.Input)
        return await _predictions(service, [item], response, request)

    router.add_api_route(
        "/predict", predict_form, methods=["POST"], name="predict", response_model=response,
        summary=f"Predict with {model.name} (pictures as files of a multipart form)",
        openapi_extra=form_openapi(model.Input),
        responses={**BODY_ANSWERS, **responses(model.Output)},
    )  # fmt: skip


async def _predictions(
    service: ModelService, items: list[BaseModel], response: Any, request: Request
) -> Response:
    output = service.model.Output
    media_type = negotiate(output, len(items), request.headers.get("accept"))
    predictions = await service.predict(items)
    body = response(model=service.name, version=service.version, predictions=predictions)
    return await answer(body, output, media_type)


async def preprocess_upload(service: ModelService, index: int, upload: UploadFile) -> BaseModel:
    """The model's input for the `index`-th (from 1) uploaded file; errors name the file."""
    payload = await upload.read()
    media_type = upload.content_type or "application/octet-stream"
    try:
        # Decoding an image is CPU work: keep it off the event loop.
        return await run_in_threadpool(service.model.preprocess, payload, media_type)
    except ModelfleetError as exc:
        exc.message = f"file {index} ({upload.filename}): {exc.message}"
        raise


async def _respond(service: ModelService, action: Action, body: BaseModel) -> Any:
    if action.stream:
        return await stream(service.stream_action(action, body))
    return await service.run_action(action, body)


def _add_action(router: APIRouter, model_name: str, action: Action) -> None:
    body_type = _strict(action.request)
    form = bool(picture_fields(action.request))
    checked = Annotated[ModelService, check_model(model_name, FORM if form else JSON)]

    async def run(
        body: body_type,  # type: ignore[valid-type]
        service: checked,  # type: ignore[valid-type]
    ) -> Any:
        return await _respond(service, action, body)

    async def run_form(request: Request, service: checked) -> Any:  # type: ignore[valid-type]
        service.require_ready()
        return await _respond(service, action, await read_form(request, action.request))

    extra = {**(form_openapi(action.request) if form else {}),
             **(stream_openapi(action.response) if action.stream else {})}  # fmt: skip
    router.add_api_route(
        f"/{action.path}", run_form if form else run, methods=["POST"], name=action.path,
        response_model=action.response, summary=action.summary,
        openapi_extra=extra or None,
        # A stream answers an NDJSONResponse itself; the route's class only shapes the
        # OpenAPI entry: none for a stream, whose 200 is `stream_openapi`'s alone (and
        # whose errors are JSON, under FastAPI's default type).
        response_class=Response if action.stream else JSONResponse, responses=BODY_ANSWERS,
    )  # fmt: skip

"""FastAPI dependencies shared by the typed and OIP routers.

Dependencies run before the body is validated, so a request for another model
or version gets its 404, and a wrong media type its 415, even when the body
would not have validated either.

They are `async def` although they never await: FastAPI runs a plain `def`
dependency in its thread pool, and three thread hops per request cost more
than the whole endpoint on a busy CPU.
"""

# No `from __future__ import annotations`: `check_model` builds its parameter types
# at run time, and FastAPI must see them as objects, not strings.
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from .errors import UnsupportedMediaType
from .service import ModelService

__all__ = [
    "Service",
    "check_model",
    "check_model_version",
    "get_service",
    "is_json",
    "media_type",
    "require_media_type",
    "unsupported",
]

JSON = "application/json"


def _service(request: Request) -> ModelService:
    return request.app.state.service


async def get_service(request: Request) -> ModelService:
    return _service(request)


Service = Annotated[ModelService, Depends(get_service)]
"""The served model version, as an endpoint parameter type."""


def _only(value: str, what: str) -> Any:
    # Documented as the one value there is, so clients (and fuzzers) can find it;
    # not validated as an enum, so any other value gets the 404 naming what is served.
    return Annotated[str, Path(description=what, json_schema_extra={"enum": [value]})]


def check_model(model: str, *accepted: str) -> Any:
    """For paths with `{name}`: the served model's service, after a 404 unless `name` is
    `model` and, given `accepted` media types, a 415 unless the request has one of them
    (`require_media_type`). One dependency for both: FastAPI's cost is per dependency,
    on every request."""
    name_type = _only(model, "The model this service serves")

    async def check(request: Request, name: name_type) -> ModelService:  # type: ignore[valid-type]
        service = _service(request)
        service.check_target(name)
        if accepted:
            _check_media_type(request, accepted)
        return service

    return Depends(check)


def check_model_version(model: str, version: str) -> Any:
    """For paths with `{name}` and `{version}`: 404 unless both are the ones served."""
    name_type = _only(model, "The model this service serves")
    version_type = _only(version, "The version this service serves")

    async def check(request: Request, name: name_type, version: version_type) -> None:  # type: ignore[valid-type]
        _service(request).check_target(name, version)

    return Depends(check)


def media_type(request: Request) -> str:
    """The request's media type, lower case and without parameters; "" when missing."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """`application/json` or a structured `+json` type, as FastAPI parses them."""
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def unsupported(media: str, accepted: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"content type {media or 'missing'!r} is not supported here; send {accepted}"
    )


def _bodiless(request: Request) -> bool:
    headers = request.headers
    return headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers


def require_media_type(*accepted: str) -> Any:
    """A dependency answering 415 unless the request's media type is one of `accepted`
    (`application/json` stands for every JSON type, e.g. `application/problem+json`).
    A request without a body nor a type gets its 422 from validation: the body is missing."""

    async def check(request: Request) -> None:
        _check_media_type(request, accepted)

    return Depends(check)


def _check_media_type(request: Request, accepted: tuple[str, ...]) -> None:
    media = media_type(request)
    if not media and _bodiless(request):
        return
    if media not in accepted and not (JSON in accepted and is_json(media)):
        raise unsupported(media, " or ".join(accepted))

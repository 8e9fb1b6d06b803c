"""FastAPI dependencies shared by the typed and OIP routers.

Dependencies run before the body is validated, so a request for another model
or version gets its 404, and a wrong media type its 415, even when the body
would not have validated either.

They are `async def` although they never await: FastAPI runs a plain `def`
dependency in its thread pool, and three thread hops per request cost more
than the whole endpoint on a busy CPU.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from .errors import UnsupportedMediaType
from .service import ModelService

__all__ = ["Service", "check_model", "check_model_version", "get_service", "require_media_type"]


def _service(request: Request) -> ModelService:
    return request.app.state.service


async def get_service(request: Request) -> ModelService:
    return _service(request)


async def _check_model(request: Request, name: str) -> None:
    _service(request).check_target(name)


async def _check_model_version(request: Request, name: str, version: str) -> None:
    _service(request).check_target(name, version)


Service = Annotated[ModelService, Depends(get_service)]
"""The served model version, as an endpoint parameter type."""
check_model = Depends(_check_model)
"""For paths with `{name}`: 404 unless this service serves that model."""
check_model_version = Depends(_check_model_version)
"""For paths with `{name}` and `{version}`: 404 unless this service serves both."""


def require_media_type(*accepted: str) -> Any:
    """A dependency answering 415 unless the request's media type is one of `accepted`."""

    async def check(request: Request) -> None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in accepted:
            raise UnsupportedMediaType(
                f"content type {media_type or 'missing'!r} is not supported here; send "
                f"{' or '.join(accepted)}"
            )

    return Depends(check)

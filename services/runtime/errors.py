"""Errors a model service answers with, rendered by one handler.

ModelfleetError                 500  something broke on our side
├── BadRequest                  400  the request is well-formed but wrong
│   └── TensorError             400  an OIP tensor does not match its declaration
├── NotFound                    404
│   ├── ModelNotFound           404  this service serves another model
│   ├── VersionNotFound         404  this service serves another version
│   └── JobNotFound             404  no training job with that id
├── NotAcceptable               406  no representation the Accept header allows
├── Conflict                    409  the operation clashes with one in progress
├── PayloadTooLarge             413
├── UnsupportedMediaType        415
├── Unprocessable               422  valid syntax, invalid content (e.g. a broken image)
├── NotReady                    503  model not loaded or warmed yet (Retry-After)
├── Overloaded                  503  batch queue full (Retry-After)
├── TrainingUnavailable         503  this deployment cannot train (e.g. a read-only registry)
└── RegistryError               500  a version is missing, incomplete or tampered with

The body is always `{"error": "<message>"}`, the shape the Open Inference
Protocol prescribes; typed endpoints additionally answer FastAPI's 422
`{"detail": [...]}` for schema violations.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

__all__ = [
    "BadRequest",
    "Conflict",
    "JobNotFound",
    "ModelNotFound",
    "ModelfleetError",
    "NotAcceptable",
    "NotFound",
    "NotReady",
    "Overloaded",
    "PayloadTooLarge",
    "RegistryError",
    "TensorError",
    "TrainingUnavailable",
    "Unprocessable",
    "UnsupportedMediaType",
    "VersionNotFound",
    "install_error_handlers",
]

logger = logging.getLogger("modelfleet.errors")


class ModelfleetError(Exception):
    status_code = 500
    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ModelfleetError):
    status_code = 400


class TensorError(BadRequest):
    pass


class NotFound(ModelfleetError):
    status_code = 404


class ModelNotFound(NotFound):
    pass


class VersionNotFound(NotFound):
    pass


class JobNotFound(NotFound):
    pass


class NotAcceptable(ModelfleetError):
    status_code = 406


class Conflict(ModelfleetError):
    status_code = 409


class PayloadTooLarge(ModelfleetError):
    status_code = 413


class UnsupportedMediaType(ModelfleetError):
    status_code = 415


class Unprocessable(ModelfleetError):
    status_code = 422


class NotReady(ModelfleetError):
    status_code = 503
    retry_after = 5


class Overloaded(ModelfleetError):
    status_code = 503
    retry_after = 1


class TrainingUnavailable(ModelfleetError):
    status_code = 503


class RegistryError(ModelfleetError):
    pass


def error_response(status_code: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


async def _modelfleet_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelfleetError)
    if exc.status_code >= 500 and exc.retry_after is None:
        logger.error("request failed: %s", exc.message, exc_info=exc)
    else:
        logger.warning("request rejected (%d): %s", exc.status_code, exc.message)
    return error_response(exc.status_code, exc.message, exc.retry_after)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code == 413:
        limit = request.app.state.settings.max_body_bytes
        message = f"request body is larger than the limit of {limit} bytes"
    elif exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body"
        message = "the body is not UTF-8, as JSON must be"
    logger.warning("request rejected (%d): %s", exc.status_code, message)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_without_input(e) for e in exc.errors()]
    if request.url.path.startswith("/v2/"):
        # The Open Inference Protocol answers malformed requests with 400 {"error"}.
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        logger.warning("request rejected (400): %s", message)
        return error_response(400, f"invalid inference request: {message}")
    logger.warning("request rejected (422): %s", errors)
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _without_input(error: dict) -> dict:
    # Echoing a whole (possibly huge) input back adds nothing: loc names the field.
    return {k: v for k, v in error.items() if k not in {"input", "url"}}


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; see the service logs for this request id")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ModelfleetError, _modelfleet_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)

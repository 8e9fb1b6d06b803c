"""One error hierarchy for the gateway, rendered by one handler as a JSON body.

    GatewayError                 500  base: carries its status and a message
    ├── BadRequest               400  contradictory or malformed routing headers
    ├── Unauthorized             401  missing or wrong API key
    ├── NotFound                 404  unknown model or version (lists the known ones)
    ├── PayloadTooLarge          413  body over MODELFLEET_MAX_BODY_BYTES
    ├── NotReady                 503  no valid routes table loaded
    ├── NoVersionLeft            503  every version of the model is down, ejected or held
    └── UpstreamError            502  a model service could not answer
        └── UpstreamTimeout      504  it did not answer within the model's timeout

Bodies are `{"error": "<message>", ...details}`, the shape OIP clients expect;
no handler ever puts an exception type or traceback in a body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

__all__ = [
    "BadRequest",
    "GatewayError",
    "NoVersionLeft",
    "NotFound",
    "NotReady",
    "PayloadTooLarge",
    "Unauthorized",
    "UpstreamError",
    "UpstreamTimeout",
    "install_error_handlers",
]

logger = logging.getLogger("gateway.errors")


class GatewayError(Exception):
    """Base error: `status` is the HTTP status, `details` extra JSON fields."""

    status = 500

    def __init__(
        self, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.details = details


class BadRequest(GatewayError):
    status = 400


class Unauthorized(GatewayError):
    status = 401


class NotFound(GatewayError):
    status = 404


class PayloadTooLarge(GatewayError):
    status = 413


class NotReady(GatewayError):
    status = 503


class NoVersionLeft(GatewayError):
    """No version of `model` can take the request now; `reasons` says why, per version."""

    status = 503

    def __init__(self, model: str, reasons: dict[str, str], retry_after: int) -> None:
        why = "; ".join(f"{version} {reason}" for version, reason in reasons.items())
        super().__init__(
            f"no version of model {model!r} can answer now: {why}",
            headers={"Retry-After": str(retry_after)},
            model=model,
            reasons=reasons,
        )


class UpstreamError(GatewayError):
    """A model service failed; `reason` feeds `modelfleet_gateway_upstream_errors_total`."""

    status = 502

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.reason = reason


class UpstreamTimeout(UpstreamError):
    status = 504


def error_response(exc: GatewayError) -> JSONResponse:
    """The one place a gateway error becomes an HTTP response."""
    body = {"error": exc.message, **exc.details}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _render(_: Request, exc: Exception) -> JSONResponse:
    """Every error the app can meet, as JSON; tracebacks go to the log only."""
    if isinstance(exc, GatewayError):
        level = logging.WARNING if exc.status >= 500 else logging.INFO
        logger.log(level, "request failed", extra={"status": exc.status, "reason": exc.message})
        return error_response(exc)
    if isinstance(exc, HTTPException):  # Starlette's own 404/405 for unserved paths
        body = {"error": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    if isinstance(exc, RequestValidationError):
        body = {"error": "invalid request", "detail": jsonable_encoder(exc.errors())}
        return JSONResponse(body, status_code=422)
    logger.error("unhandled error", exc_info=exc)
    return JSONResponse({"error": "internal gateway error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception class the app can meet through `_render`."""
    for exc_class in (GatewayError, HTTPException, RequestValidationError, Exception):
        app.add_exception_handler(exc_class, _render)

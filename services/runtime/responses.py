"""Every answer a route can give, declared in one table for the OpenAPI document.

Routes name their statuses (`answers(404, 413, 415, 503)`) and get the body
schema and description of each: `{"error": ...}` for the runtime's own errors,
FastAPI's validation error for typed bodies (or, where the model runs, the model's
refusal: `MODEL_422`), `Retry-After` on every 503. A 422
appears only where a route declares it: FastAPI adds one to every route with
parameters, and the OIP routes answer 400 instead (`declared_only`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

__all__ = [
    "EMPTY",
    "MODEL_422",
    "RETRY_AFTER",
    "ErrorBody",
    "ValidationErrorBody",
    "answers",
    "declared_only",
]


class ErrorBody(BaseModel):
    error: str = Field(description="What is wrong, in words")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, the request shape, the field")
    msg: str
    type: str = Field(description="pydantic's error type, e.g. `missing`")
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(BaseModel):
    detail: list[FieldError]


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 0},
    }
}
EMPTY: dict[str, Any] = {"content": {}}
"""An answer by status alone, without a body (the OIP health routes)."""

_FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"
_FASTAPI_422 = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": _FASTAPI_422_REF}}},
}
_TABLE: dict[int, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "The body cannot be parsed (not UTF-8 JSON, a broken multipart form), "
        "an inference request does not fit the model's tensors, or `Accept` is malformed",
    },
    404: {"model": ErrorBody, "description": "This service serves another model or version"},
    406: {
        "model": ErrorBody,
        "description": "`Accept` allows none of the media types this request can be answered in",
    },
    409: {"model": ErrorBody, "description": "A job of this model is already queued or running"},
    413: {"model": ErrorBody, "description": "The body is over `MODELFLEET_MAX_BODY_BYTES`"},
    415: {"model": ErrorBody, "description": "The body's media type is not accepted here"},
    422: {"model": ValidationErrorBody, "description": "The body does not fit the schema"},
    500: {
        "model": ErrorBody,
        "description": "The model failed; the log line of this request has why",
    },
    503: {
        "model": ErrorBody,
        "description": "Not ready yet, draining or overloaded",
        "headers": RETRY_AFTER,
    },
}


MODEL_422: dict[str, Any] = {
    "model": ValidationErrorBody | ErrorBody,
    "description": "The input does not fit the schema (`detail`, naming the field), or the "
    "model refuses its content (`error`, e.g. a file it cannot read)",
}
"""The 422 of a route that runs the model: a validation error, or the model's refusal."""


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` entries for `statuses`."""
    return {status: _TABLE[status] for status in statuses}


def declared_only(app: FastAPI) -> None:
    """Drop the 422 FastAPI documents by itself on every route with parameters: the
    routes that answer 422 declare it here, with the body they really send."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for item in schema["paths"].values():
                for operation in item.values():
                    if operation["responses"].get("422") == _FASTAPI_422:
                        del operation["responses"]["422"]
            if _FASTAPI_422_REF not in json.dumps(schema["paths"]):
                for name in ("HTTPValidationError", "ValidationError"):
                    schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

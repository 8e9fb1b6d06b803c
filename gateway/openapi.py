"""The gateway's OpenAPI document: every answer a route can give, from one table.

Routes name their statuses (`answers(404, 502, 503)`) and get each one's body
and description. A routed path answers what the model service answers (passed
on as it came) or the gateway's own `{"error": ...}`; both are described. The
document also lists the models and versions of the routes table in force, so
a client (or a fuzzer) finds the real paths; it is rebuilt when the table
changes. FastAPI's automatic 422 is dropped: the one route that can pass a 422
on declares it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from .fleet import Fleet

__all__ = ["EMPTY", "RETRY_AFTER", "ErrorBody", "answers", "install_openapi"]


class ErrorBody(BaseModel):
    """The gateway's errors and the model services' (`{"error": ...}`), with any details
    (`models`, `versions` or `reasons`)."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(description="What is wrong, in words")


class ValidationErrorBody(BaseModel):
    """A typed endpoint's 422, passed on from the model service: FastAPI's `detail` list."""

    detail: list[dict[str, Any]] = Field(description="One entry per field: `loc`, `msg`, `type`")


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 0},
    }
}
EMPTY: dict[str, Any] = {"content": {}}
"""An answer by status alone, without a body (the OIP health routes)."""

_TABLE: dict[int, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A malformed request, or the model's 400 (OIP)"},
    401: {"model": ErrorBody, "description": "API keys are on and none or a wrong one was sent"},
    404: {"model": ErrorBody, "description": "Unknown model, version or path"},
    405: {"model": ErrorBody, "description": "The model service has no such method here"},
    406: {"model": ErrorBody, "description": "`Accept` allows nothing the model can answer"},
    409: {"model": ErrorBody, "description": "The model refuses: e.g. a training job runs"},
    413: {"model": ErrorBody, "description": "The body is over `MODELFLEET_MAX_BODY_BYTES`"},
    415: {"model": ErrorBody, "description": "The model does not accept the body's media type"},
    422: {
        "model": ValidationErrorBody | ErrorBody,
        "description": "The body does not fit the model's schema",
    },
    500: {"model": ErrorBody, "description": "The model failed on this request"},
    502: {"model": ErrorBody, "description": "The version chosen failed and the retries ran out"},
    503: {
        "model": ErrorBody,
        "description": "No version is left (each held by the guard, ejected or failing; "
        "`reasons` says which), the version is not ready, or no routes table is loaded",
        "headers": RETRY_AFTER,
    },
    504: {"model": ErrorBody, "description": "The version did not answer within its timeout"},
}
_FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` entries for `statuses`."""
    return {status: _TABLE[status] for status in statuses}


def install_openapi(app: FastAPI, fleet: Fleet) -> None:
    """Serve the document with declared answers only, for the routes table in force."""
    build = app.openapi
    built_for: str | None = None

    def openapi() -> dict[str, Any]:
        nonlocal built_for
        loaded = fleet.current.routes if fleet.ready else None
        sha = loaded.sha256 if loaded else None
        if app.openapi_schema is None or built_for != sha:
            app.openapi_schema = None
            schema = build()
            _drop_automatic_422(schema)
            if loaded is not None:
                models = loaded.table.models
                versions = sorted({v for route in models.values() for v in route.versions})
                _enumerate(schema, {"name": sorted(models), "version": versions})
            built_for = sha
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in schema["paths"].values() for operation in item.values()]


def _drop_automatic_422(schema: dict[str, Any]) -> None:
    for operation in _operations(schema):
        automatic = operation["responses"].get("422", {}).get("content", {})
        if automatic.get("application/json", {}).get("schema") == {"$ref": _FASTAPI_422_REF}:
            del operation["responses"]["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)


def _enumerate(schema: dict[str, Any], values: dict[str, list[str]]) -> None:
    """Name the served models and versions in the path parameters (documentation only:
    any other value still gets the 404 listing the known ones)."""
    for operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and values.get(parameter["name"]):
                parameter["schema"]["enum"] = values[parameter["name"]]

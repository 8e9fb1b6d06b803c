"""The typed JSON predict route: documented by FastAPI, served without its solver.

FastAPI serves a route by solving the endpoint's dependencies and parameters on
every request, the largest part of the runtime's own cost on a model that answers
in well under a millisecond (README, *Performance*). `JsonBodyRoute` keeps its
endpoint, so the OpenAPI entry is FastAPI's as before, and does the same work
itself, in this order and with FastAPI's answers:

1. the endpoint's `service` dependency: the model and media type checks (404, 415),
   before a byte of the body is parsed;
2. the body as JSON: 422 `json_invalid` at the position of the error, 400 when it
   is not UTF-8 or the client left while sending it, 413 over the size limit, and
   a missing body is the 422 `missing` at `("body",)`;
3. the body validated against the endpoint's `body` type: FastAPI's 422, with each
   location under `"body"`;

then it calls the endpoint with `body`, `request` and `service`.
"""

# No `from __future__ import annotations`: the endpoint's annotations are read as objects.
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any, get_args

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

__all__ = ["JsonBodyRoute"]

NO_BODY = object()


class JsonBodyRoute(APIRoute):
    """For an endpoint `(body, request, service)` whose `service` is one `Depends` on
    the path parameters (`dependencies.check_model`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if self.dependencies:
            raise TypeError(f"{self.path}: a JsonBodyRoute runs no route dependencies")
        endpoint = self.endpoint
        parameters = inspect.signature(endpoint).parameters
        body_type = TypeAdapter(parameters["body"].annotation)
        [check] = [a.dependency for a in get_args(parameters["service"].annotation)
                   if isinstance(a, Depends)]  # fmt: skip
        assert check is not None

        async def handle(request: Request) -> Response:
            service = await check(request, **request.path_params)
            body = _validated(body_type, await _json(request))
            response: Response = await endpoint(body=body, request=request, service=service)
            return response

        return handle


async def _json(request: Request) -> Any:
    """The body parsed as JSON, or `NO_BODY` when there is none."""
    try:
        raw = await request.body()
        return json.loads(raw) if raw else NO_BODY
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                 "input": {}, "ctx": {"error": exc.msg}}  # fmt: skip
        raise RequestValidationError([error], body=exc.doc) from exc
    except HTTPException:  # the body over the size limit (middleware.RequestContext): 413
        raise
    except Exception as exc:  # as FastAPI: not UTF-8, or the client left mid-body
        raise HTTPException(400, "There was an error parsing the body") from exc


def _validated(body_type: TypeAdapter[Any], data: Any) -> Any:
    if data is NO_BODY:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        # As FastAPI validates a body (its error types differ without `from_attributes`).
        return body_type.validate_python(data, from_attributes=True)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=data) from exc

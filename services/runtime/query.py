"""Predict from query parameters: `GET /v1/models/{name}/predict?field=value&...`.

A model whose input schema is flat (every field a string, number, boolean, enum or
`Literal`) may set `query_predict = True`. Each field is then one query parameter
with the field's type, bounds, default and description (FastAPI reads the schema
as a query-parameter model), so the OpenAPI documents every parameter. The schema
forbids unknown fields, so a misspelled parameter is a 422 naming it, as is a
missing or out-of-range one. The answer is the POST answer for one instance.
"""

# No `from __future__ import annotations`: FastAPI must see the endpoint's parameter type
# (the model's input, known only at run time) as an object, not a string.
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from .fields import is_scalar, unoptional
from .model import Model
from .negotiation import responses
from .responses import MODEL_422, answers
from .service import ModelService

__all__ = ["add_query_predict", "check_flat"]

Predictions = Callable[[ModelService, list[BaseModel], Any, Request], Awaitable[Response]]


def check_flat(schema: type[BaseModel]) -> None:
    """Refuse (at start-up) an input schema that query parameters cannot carry."""
    nested = [n for n, f in schema.model_fields.items() if not is_scalar(unoptional(f.annotation))]
    if nested:
        raise TypeError(
            f"{schema.__name__} fields {nested} are not scalars; query_predict needs a flat input"
        )


def add_query_predict(
    router: APIRouter,
    model: type[Model[Any, Any]],
    response: Any,
    predictions: Predictions,
    target: Any,
) -> None:
    """Add `GET .../predict`; `target` is the parameter type that checks the path and
    gives the service (`dependencies.check_model`)."""
    check_flat(model.Input)

    async def predict_query(
        params: Annotated[model.Input, Query()],  # type: ignore[name-defined]
        request: Request,
        service: target,  # type: ignore[valid-type]
    ) -> Any:
        return await predictions(service, [params], response, request)

    router.add_api_route(
        "/predict", predict_query, methods=["GET"], name="predict_query", response_model=response,
        summary=f"Predict with {model.name} from query parameters (one instance)",
        responses={**answers(500, 503), 422: MODEL_422, **responses(model.Output)},
    )  # fmt: skip

"""What a model offers over HTTP, for clients that build themselves from it.

`GET /v1/models/{name}` lists the model's operations: `predict` first, then each
action, with the request form, the schemas and what the operation supports. The
playground draws its forms and answers from this list alone, with no page code per
model:

    {"name": "predict", "path": "/v1/models/digits/predict", "request": "multipart",
     "media_types": ["image/png", ...], "bulk": true, "query": false, "stream": false,
     "answers": ["application/json"], "summary": "...",
     "input_schema": {...}, "output_schema": {...}}

`request` is `json` (the body validates against `input_schema`) or `multipart`
(`input_schema` describes the form: a property with `"format": "binary"` is a file
part, the rest are form fields: a scalar is one text part, a list of scalars the
part repeated, anything else one part of JSON text). `media_types`: the file types
a file part takes. A picture property, in a form or in `output_schema`, carries
`"x-modelfleet-kind": "image"` or `"mask"` (in JSON answers it is a PNG data URL,
`"format": "data-url"`; a mask's pixel values are class indices).
`bulk`: JSON predict also takes `{"instances": [...]}`; a multipart upload predict
takes several files (a form with picture fields is one instance). `query`: the
operation also answers `GET` with the input's fields as query parameters. `stream`:
it answers `application/x-ndjson`, one `output_schema` object per line. `answers`:
the media types of a 200 answer, in the service's order of preference (`image/png`,
`image/jpeg`, `image/webp` when predict can answer its output's first picture
itself, as it does when `Accept` prefers one of them).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .forms import form_schema
from .imaging import MEDIA_TYPES
from .model import Action, Model
from .negotiation import JSON, offers
from .pictures import picture_fields
from .streaming import NDJSON

__all__ = ["UPLOAD_FIELD", "describe_operations"]

UPLOAD_FIELD = "file"
"""The multipart field of uploaded files on predict."""


def _upload_schema(media_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            UPLOAD_FIELD: {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "format": "binary"},
                "description": f"One or more files ({', '.join(media_types)}); one prediction each",
            }
        },
        "required": [UPLOAD_FIELD],
    }


def _input(schema: type[BaseModel]) -> dict[str, Any]:
    """The request form, media types and input schema of a JSON or picture-form body."""
    if picture_fields(schema):
        return {"request": "multipart", "media_types": list(MEDIA_TYPES),
                "input_schema": form_schema(schema)}  # fmt: skip
    return {"request": "json", "media_types": [], "input_schema": schema.model_json_schema()}


def _predict(model: type[Model[Any, Any]]) -> dict[str, Any]:
    if model.raw_media_types:
        body = {"request": "multipart", "media_types": list(model.raw_media_types),
                "input_schema": _upload_schema(model.raw_media_types)}  # fmt: skip
    else:
        body = _input(model.Input)
    return {
        "name": "predict",
        "path": f"/v1/models/{model.name}/predict",
        "summary": f"Predict with {model.name}",
        **body,
        "bulk": not picture_fields(model.Input),
        "query": model.query_predict,
        "stream": False,
        "answers": offers(model.Output, 1),
        "output_schema": model.Output.model_json_schema(),
    }


def _action(model: type[Model[Any, Any]], action: Action) -> dict[str, Any]:
    return {
        "name": action.path,
        "path": f"/v1/models/{model.name}/{action.path}",
        "summary": action.summary,
        **_input(action.request),
        "bulk": False,
        "query": False,
        "stream": action.stream,
        "answers": [NDJSON if action.stream else JSON],
        "output_schema": action.response.model_json_schema(),
    }


def describe_operations(model: type[Model[Any, Any]]) -> list[dict[str, Any]]:
    """`predict`, then every action, in the shape the module docstring gives."""
    return [_predict(model), *(_action(model, action) for action in model.actions)]

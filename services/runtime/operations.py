"""What a model offers over HTTP, for clients that build themselves from it.

`GET /v1/models/{name}` lists the model's operations: `predict` first, then each
action, with the request form, the schemas and what the operation supports. The
playground draws its forms and answers from this list alone, with no page code per
model:

    {"name": "predict", "path": "/v1/models/digits/predict", "request": "multipart",
     "media_types": ["image/png", ...], "bulk": true, "query": false, "stream": false,
     "summary": "...", "input_schema": {...}, "output_schema": {...}}

`request` is `json` (the body validates against `input_schema`) or `multipart`
(`input_schema` describes the form: a property with `"format": "binary"` is a file
part, the rest are form fields). `bulk`: JSON predict also takes
`{"instances": [...]}`; a multipart one takes several files. `query`: the operation
also answers `GET` with the input's fields as query parameters. `stream`: it answers
`application/x-ndjson`, one `output_schema` object per line.
"""

from __future__ import annotations

from typing import Any

from .model import Action, Model

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


def _predict(model: type[Model[Any, Any]]) -> dict[str, Any]:
    uploads = bool(model.raw_media_types)
    return {
        "name": "predict",
        "path": f"/v1/models/{model.name}/predict",
        "summary": f"Predict with {model.name}",
        "request": "multipart" if uploads else "json",
        "media_types": list(model.raw_media_types),
        "bulk": True,
        "query": False,
        "stream": False,
        "input_schema": _upload_schema(model.raw_media_types)
        if uploads
        else model.Input.model_json_schema(),
        "output_schema": model.Output.model_json_schema(),
    }


def _action(model: type[Model[Any, Any]], action: Action) -> dict[str, Any]:
    return {
        "name": action.path,
        "path": f"/v1/models/{model.name}/{action.path}",
        "summary": action.summary,
        "request": "json",
        "media_types": [],
        "bulk": False,
        "query": False,
        "stream": False,
        "input_schema": action.request.model_json_schema(),
        "output_schema": action.response.model_json_schema(),
    }


def describe_operations(model: type[Model[Any, Any]]) -> list[dict[str, Any]]:
    """`predict`, then every action, in the shape the module docstring gives."""
    return [_predict(model), *(_action(model, action) for action in model.actions)]

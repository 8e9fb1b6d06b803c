"""Multipart forms read into a schema: picture fields are file parts, the rest form fields.

    curl -F image=@photo.jpg -F style=mosaic localhost:8080/v1/models/styles/predict

OpenAPI's default multipart encoding, both ways: a scalar field is one text part,
a list of scalars is that part repeated, any other field (an object, a union of
shapes) is one part holding JSON text. A picture field (`pictures.Image`, `Mask`)
takes one file, decoded (EXIF orientation applied) beside the event loop, or a data
URL as text. Every problem is a precise 4xx naming the field: FastAPI's 422
`{"detail": [{"loc": ["body", field], ...}]}` for a missing, unknown, repeated or
invalid field, a file where text belongs, bad JSON or a file that is no image (the
message names the file); 415 `{"error"}` for a file part of a non-image type.
"""

from __future__ import annotations

import json
import typing
from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from .errors import Unprocessable, UnsupportedMediaType
from .fields import is_scalar, unoptional
from .imaging import MEDIA_TYPES
from .pictures import KIND_KEY, Picture, picture_fields

__all__ = ["FORM", "form_openapi", "form_schema", "read_form"]

FORM = "multipart/form-data"
Part = UploadFile | str
PartKind = Literal["one", "repeated", "json"]


def _part_kind(field: FieldInfo) -> PartKind:
    """How a field travels in a form (OpenAPI's default multipart encoding)."""
    annotation = unoptional(field.annotation)
    if is_scalar(annotation):
        return "one"
    items = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    if typing.get_origin(annotation) in (list, tuple, set, frozenset) and all(
        map(is_scalar, items)
    ):
        return "repeated"
    return "json"


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", name), "msg": message, "input": None}]
    )


async def read_form(request: Request, schema: type[BaseModel]) -> BaseModel:
    """The request's multipart form as one validated `schema` instance."""
    pictures = picture_fields(schema)
    async with request.form() as form:
        values: dict[str, Any] = {}
        for name in dict.fromkeys(form.keys()):
            parts = form.getlist(name)
            picture = pictures.get(name)
            if name not in schema.model_fields:
                values[name] = None  # the schema refuses an unknown field by name
            elif picture is not None:
                values[name] = await _picture(name, picture, parts)
            else:
                values[name] = _field_value(name, schema.model_fields[name], parts)
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def _field_value(name: str, field: FieldInfo, parts: list[Part]) -> Any:
    if any(isinstance(part, UploadFile) for part in parts):
        raise _invalid(name, "this field takes text, not a file")
    kind = _part_kind(field)
    if kind == "repeated":
        return parts
    if len(parts) > 1:
        raise _invalid(name, f"this field takes one value, the form has {len(parts)}")
    if kind == "json":
        try:
            return json.loads(parts[0])
        except ValueError as exc:
            raise _invalid(name, f"this field takes JSON text: {exc}") from exc
    return parts[0]


async def _picture(name: str, picture: type[Picture], parts: list[Part]) -> Any:
    if len(parts) > 1:
        raise _invalid(name, f"this field takes one file, the form has {len(parts)}")
    (part,) = parts
    if isinstance(part, str):
        return part  # a data URL, which the schema validates
    payload = await part.read()
    media_type = part.content_type or "application/octet-stream"
    try:
        # Decoding a picture is CPU work: keep it off the event loop.
        return await run_in_threadpool(picture.from_bytes, payload, media_type)
    except UnsupportedMediaType as exc:
        exc.message = f"field {name!r} ({part.filename}): {exc.message}"
        raise
    except Unprocessable as exc:
        raise _invalid(name, f"{part.filename}: {exc.message}") from exc


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON Schema with its local `$ref`s replaced by what they point at."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """An optional field as a form has it: a form leaves out the part of a field it does
    not give, so `null` is no value it can send (a `null` text would be the word)."""
    others = [option for option in field.get("anyOf", []) if option != {"type": "null"}]
    if len(others) == len(field.get("anyOf", [])):
        return field
    rest = {k: v for k, v in field.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**others[0], **rest} if len(others) == 1 else {**rest, "anyOf": others}


def form_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The form's JSON Schema: the schema's own, each picture field a binary file part
    and no field nullable."""
    full = schema.model_json_schema()
    form: dict[str, Any] = _inline(full, full.get("$defs", {}))
    form["properties"] = {name: _without_null(field) for name, field in form["properties"].items()}
    for name, picture in picture_fields(schema).items():
        described = form["properties"][name]
        form["properties"][name] = {
            "type": "string",
            "format": "binary",
            "contentMediaType": "image/*",
            KIND_KEY: picture.kind,
            "title": described.get("title", name),
            "description": described.get("description", picture.description),
        }
    return form


def form_openapi(schema: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring the multipart request body of a form route."""
    pictures = picture_fields(schema)
    encoding = {name: {"contentType": ", ".join(MEDIA_TYPES[:-1])} for name in pictures}
    encoding |= {
        name: {"contentType": "application/json"}
        for name, field in schema.model_fields.items()
        if name not in pictures and _part_kind(field) == "json"
    }
    # No examples here: the schema's are JSON, pictures as data URLs, which no client
    # sends as the file parts the form declares (they stay in the model's metadata).
    body = {key: value for key, value in form_schema(schema).items() if key != "examples"}
    content = {"schema": body, "encoding": encoding}
    return {"requestBody": {"required": True, "content": {FORM: content}}}

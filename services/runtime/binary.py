"""The Open Inference Protocol's binary tensor data extension (KServe V2, Triton).

A request may carry tensor data after its JSON: the header
`Inference-Header-Content-Length` gives the length of the JSON part, and each
input with a `binary_data_size` parameter takes that many bytes of the rest, in
input order. Outputs asked for with the `binary_data` parameter (or all of them,
with the request parameter `binary_data_output`) are answered the same way, as
`application/octet-stream` with the same header.

Elements are little-endian and row-major, without padding: BOOL is one byte, 0
or 1; each BYTES element is a 4-byte little-endian length followed by its bytes
(here UTF-8 text, as the schemas' strings).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from .dependencies import is_json, media_type, unsupported
from .errors import BadRequest, TensorError
from .tensors import NUMPY_DTYPES

__all__ = [
    "EXTENSION",
    "HEADER",
    "OCTET_STREAM",
    "BinaryTensorRoute",
    "binary_data",
    "binary_response",
    "decode",
    "encode",
]

EXTENSION = "binary_tensor_data"
HEADER = "Inference-Header-Content-Length"
OCTET_STREAM = "application/octet-stream"
_LENGTH = struct.Struct("<I")
_ACCEPTED = f"JSON, or {OCTET_STREAM} with {HEADER}"


def decode(raw: bytes, datatype: str, name: str) -> list[Any]:
    """The flat element values of input `name`'s binary data."""
    if datatype == "BYTES":
        return _decode_bytes(raw, name)
    dtype = np.dtype(NUMPY_DTYPES[datatype])
    if len(raw) % dtype.itemsize:
        raise TensorError(
            f"input {name!r}: {len(raw)} bytes of binary data are no whole number of "
            f"{datatype} elements ({dtype.itemsize} bytes each)"
        )
    if datatype == "BOOL" and raw.translate(None, b"\x00\x01"):
        raise TensorError(f"input {name!r}: a BOOL element is one byte, 0 or 1")
    values: list[Any] = np.frombuffer(raw, dtype).tolist()
    return values


def _decode_bytes(raw: bytes, name: str) -> list[Any]:
    values: list[Any] = []
    offset = 0
    while offset < len(raw):
        where = f"input {name!r}: BYTES element {len(values)}"
        if offset + _LENGTH.size > len(raw):
            raise TensorError(f"{where} is cut short in its 4-byte length")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        if offset + length > len(raw):
            raise TensorError(f"{where} needs {length} bytes, {len(raw) - offset} are left")
        try:
            values.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise TensorError(f"{where} is not UTF-8 text") from None
        offset += length
    return values


def encode(data: list[Any], datatype: str) -> bytes:
    """One output's flat element values as binary data."""
    if datatype == "BYTES":
        parts = [value.encode() if isinstance(value, str) else bytes(value) for value in data]
        return b"".join(_LENGTH.pack(len(part)) + part for part in parts)
    return np.asarray(data, dtype=NUMPY_DTYPES[datatype]).tobytes()


def binary_response(header: dict[str, Any], binary: list[dict[str, Any]]) -> Response:
    """The answer with the `binary` outputs (tensors listed in `header`) moved, data
    replaced by its size, into the binary part after the JSON."""
    chunks = []
    for output in binary:
        chunks.append(encode(output.pop("data"), output["datatype"]))
        output["parameters"] = {"binary_data_size": len(chunks[-1])}
    json_part = JSONResponse(header).body
    return Response(
        json_part + b"".join(chunks),
        media_type=OCTET_STREAM,
        headers={HEADER: str(len(json_part))},
    )


def binary_data(request: Request) -> bytes:
    """The bytes after the JSON part of a request `BinaryTensorRoute` framed."""
    data: bytes = request.state.binary_data
    return data


class _JsonPart(Request):
    """The request as FastAPI should parse it: its body is the JSON part alone."""

    def __init__(self, scope: Scope, receive: Receive, json_part: bytes) -> None:
        super().__init__(scope, receive)
        self._json_part = json_part

    async def body(self) -> bytes:
        return self._json_part


class BinaryTensorRoute(APIRoute):
    """An inference route that reads the extension's framing before FastAPI parses
    the body (FastAPI's documented custom-route hook), so the JSON part validates
    against the declared request model and the binary part waits in
    `binary_data(request)`. A JSON request may come without a Content-Type, as
    tritonclient sends it; a framed one may also be `application/octet-stream`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def framed(request: Request) -> Response:
            return await handler(await _frame(request))

        return framed


async def _frame(request: Request) -> Request:
    media = media_type(request)
    header = request.headers.get(HEADER)
    if header is None:
        if media and not is_json(media):
            raise unsupported(media, _ACCEPTED)
        request.state.binary_data = b""
        return request
    if media and not (is_json(media) or media == OCTET_STREAM):
        raise unsupported(media, _ACCEPTED)
    body = await request.body()
    if not header.isdigit() or int(header) > len(body):
        raise BadRequest(f"{HEADER} {header!r} is not a length within the {len(body)}-byte body")
    length = int(header)
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    scope = {**request.scope, "headers": [*headers, (b"content-type", b"application/json")]}
    framed = _JsonPart(scope, request.receive, body[:length])
    framed.state.binary_data = body[length:]
    return framed

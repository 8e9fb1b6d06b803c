"""An answer's document for comparing answers, binary OIP tensors included.

An answer framed by the Open Inference Protocol's binary tensor data extension
is its JSON (`Inference-Header-Content-Length` bytes long) followed by the data
of each output whose parameters carry `binary_data_size`, in output order:
little-endian elements, BOOL one byte, BYTES a 4-byte little-endian length and
the bytes. The gateway forwards such answers untouched; it only reads them to
compare a shadow's answer with the primary's.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from .proxy import Answer

__all__ = ["document"]

HEADER = b"inference-header-content-length"
NUMPY_DTYPES = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}  # fmt: skip


def document(answer: Answer) -> Any:
    """The answer's JSON, with each binary output's values read into its `data`.

    Raises ValueError (or KeyError) for an answer that is neither."""
    length = next((int(v) for k, v in answer.headers if k.lower() == HEADER), None)
    if length is None:
        return json.loads(answer.body)
    parsed = json.loads(answer.body[:length])
    offset = length
    for output in parsed["outputs"]:
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            output["data"] = _values(answer.body[offset : offset + size], output["datatype"])
            offset += size
    return parsed


def _values(raw: bytes, datatype: str) -> list[Any]:
    if datatype != "BYTES":
        values: list[Any] = np.frombuffer(raw, NUMPY_DTYPES[datatype]).tolist()
        return values
    texts, offset = [], 0
    while offset + 4 <= len(raw):
        (size,) = struct.unpack_from("<I", raw, offset)
        texts.append(raw[offset + 4 : offset + 4 + size].decode())
        offset += 4 + size
    if offset != len(raw):
        raise ValueError("BYTES data cut short")
    return texts

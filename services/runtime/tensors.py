"""Open Inference Protocol tensors <-> a model's typed schemas.

By default every field of the input schema is one named tensor with the batch
as its first dimension: a number field is `[-1]`, a list of numbers `[-1, k]`;
the output schema maps the same way (a `dict[Literal[...], float]` becomes
`[-1, k]` in the order of its keys). A picture field (`pictures.Image`, `Mask`) is
a UINT8 tensor `[-1, H, W, C]` (`[-1, H, W]` for a mask) whose rows are arrays. An
output field holding schemas (one, or a list of them: structure no tensor has) is
a BYTES tensor `[-1]` of JSON texts, one per row. Declared datatypes are enforced
exactly.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .errors import TensorError
from .fields import unoptional
from .pictures import picture_type

__all__ = [
    "DATATYPES",
    "NUMPY_DTYPES",
    "TensorSpec",
    "decode_inputs",
    "encode_outputs",
    "specs_for",
]

# Every fixed-size datatype of the protocol, as the little-endian numpy type of its elements.
NUMPY_DTYPES = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}  # fmt: skip
DATATYPES = frozenset({*NUMPY_DTYPES, "BYTES"})


def _limits(code: str) -> tuple[float, float]:
    info = np.iinfo(code) if code[1] in "iu" else np.finfo(code)
    kind = int if code[1] in "iu" else float
    return kind(info.min), kind(info.max)


# The values a JSON number may take in each numeric datatype.
_LIMITS = {datatype: _limits(code) for datatype, code in NUMPY_DTYPES.items() if code != "?"}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]
    """-1 marks a variable dimension (always the batch)."""
    picture: bool = False
    """Rows are numpy arrays of `shape[1:]` (a picture field), not flat lists."""
    structured: bool = False
    """Rows are JSON texts of an output field holding schemas."""

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


def specs_for(schema: type[BaseModel]) -> list[TensorSpec]:
    return [_spec(name, field) for name, field in schema.model_fields.items()]


def _spec(name: str, field: FieldInfo) -> TensorSpec:
    picture = picture_type(field.annotation)
    if picture is not None:
        return TensorSpec(name, "UINT8", picture.tensor_shape(), picture=True)
    annotation = unoptional(field.annotation)
    if _holds_schemas(annotation):
        return TensorSpec(name, "BYTES", (-1,), structured=True)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        (item,) = {a for a in typing.get_args(annotation) if a is not Ellipsis}
        width = _fixed_length(field)
        return TensorSpec(name, _scalar_datatype(item, name), (-1, width))
    if origin is dict:
        key, value = typing.get_args(annotation)
        return TensorSpec(name, _scalar_datatype(value, name), (-1, len(typing.get_args(key))))
    return TensorSpec(name, _scalar_datatype(annotation, name), (-1,))


def _holds_schemas(annotation: Any) -> bool:
    """A pydantic model, or a list or tuple of them."""
    if typing.get_origin(annotation) in (list, tuple):
        return any(_holds_schemas(a) for a in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _scalar_datatype(annotation: Any, name: str) -> str:
    if typing.get_origin(annotation) is Literal:
        annotation = type(typing.get_args(annotation)[0])
    for python_type, datatype in ((bool, "BOOL"), (int, "INT64"), (float, "FP64"), (str, "BYTES")):
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return datatype
    raise TypeError(f"field {name!r}: no tensor datatype for {annotation!r}; declare TensorSpecs")


def _fixed_length(field: FieldInfo) -> int:
    lengths = {getattr(m, "min_length", None) for m in field.metadata} | {
        getattr(m, "max_length", None) for m in field.metadata
    }
    lengths.discard(None)
    return lengths.pop() if len(lengths) == 1 else -1


def decode_inputs(
    tensors: list[dict[str, Any]], specs: list[TensorSpec], schema: type[BaseModel]
) -> list[BaseModel]:
    """Validate OIP request tensors and turn them into one schema instance per row."""
    by_name = {spec.name: spec for spec in specs}
    columns: dict[str, list[Any]] = {}
    batch: int | None = None
    for tensor in tensors:
        spec = by_name.get(tensor["name"])
        if spec is None:
            raise TensorError(f"unknown input {tensor['name']!r}; expected {sorted(by_name)}")
        if tensor["name"] in columns:
            raise TensorError(f"input {tensor['name']!r} appears twice")
        rows = _decode_tensor(tensor, spec)
        if batch is not None and len(rows) != batch:
            raise TensorError(
                f"input {spec.name!r} has batch size {len(rows)}, other inputs have {batch}"
            )
        batch = len(rows)
        columns[spec.name] = rows
    missing = sorted(set(by_name) - set(columns))
    if missing:
        raise TensorError(f"missing input(s) {missing}")
    return [_row(schema, {n: c[i] for n, c in columns.items()}, i) for i in range(batch or 0)]


def _row(schema: type[BaseModel], values: dict[str, Any], index: int) -> BaseModel:
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise TensorError(f"row {index}: {problems}") from exc


def _decode_tensor(tensor: dict[str, Any], spec: TensorSpec) -> list[Any]:
    name, datatype, shape = tensor["name"], tensor["datatype"], tensor["shape"]
    if datatype != spec.datatype:
        raise TensorError(
            f"input {name!r} has datatype {datatype}; this model expects {spec.datatype}"
        )
    if len(shape) != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, shape, strict=True)
    ):
        raise TensorError(
            f"input {name!r} has shape {shape}; this model expects {list(spec.shape)}"
        )
    flat = _flatten(tensor["data"])
    if len(flat) != math.prod(shape):
        raise TensorError(
            f"input {name!r}: shape {shape} needs {math.prod(shape)} values, data has {len(flat)}"
        )
    if spec.picture:
        return list(_picture_array(name, flat).reshape(shape))
    for value in flat:
        _check_value(name, datatype, value)
    if len(shape) == 1:
        return flat
    width = math.prod(shape[1:])
    return [flat[i : i + width] for i in range(0, len(flat), width)]


def _flatten(data: Any) -> list[Any]:
    # The protocol allows row-major flattened or nested arrays.
    if not isinstance(data, list):
        raise TensorError("tensor data must be a JSON array")
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def _check_value(name: str, datatype: str, value: Any) -> None:
    if datatype == "BYTES":
        ok = isinstance(value, str)
    elif datatype == "BOOL":
        ok = isinstance(value, bool)
    else:
        integer = datatype.startswith(("INT", "UINT"))
        number = int if integer else int | float
        ok = isinstance(value, number) and not isinstance(value, bool)
        low, high = _LIMITS[datatype]
        ok = ok and not (value < low or value > high)  # NaN passes: the schemas refuse it
    if not ok:
        raise TensorError(f"input {name!r}: {value!r} is not a {datatype} value")


def _picture_array(name: str, flat: list[Any]) -> np.ndarray:
    """UINT8 values checked in one pass (a picture has millions of them)."""
    values = np.asarray(flat)
    if values.size and (
        values.dtype.kind not in "iu" or values.min() < 0 or values.max() > np.iinfo(np.uint8).max
    ):
        raise TensorError(f"input {name!r}: every value must be a UINT8 integer 0..255")
    return values.astype(np.uint8)


def _stacked(name: str, column: list[np.ndarray]) -> np.ndarray:
    if len({array.shape for array in column}) > 1:
        raise TensorError(
            f"output {name!r}: the pictures of this batch differ in size, so they form no "
            "tensor; send them one per request"
        )
    return np.stack(column)


def encode_outputs(outputs: list[BaseModel], specs: list[TensorSpec]) -> list[dict[str, Any]]:
    encoded = []
    for spec in specs:
        column = [getattr(output, spec.name) for output in outputs]
        if spec.picture:
            stacked = _stacked(spec.name, column)
            data, shape = stacked.ravel().tolist(), list(stacked.shape)
        elif spec.structured:
            dumped = [o.model_dump(mode="json", include={spec.name})[spec.name] for o in outputs]
            data, shape = [json.dumps(value) for value in dumped], [len(dumped)]
        elif len(spec.shape) == 1:
            data, shape = column, [len(column)]
        else:
            rows = [list(v.values()) if isinstance(v, dict) else list(v) for v in column]
            data = [value for row in rows for value in row]
            shape = [len(rows), len(rows[0]) if rows else max(spec.shape[1], 0)]
        encoded.append({"name": spec.name, "datatype": spec.datatype, "shape": shape, "data": data})
    return encoded

"""OIP tensor data: the binary extension's codec for every datatype, JSON values per datatype.

tritonclient's own serializers are the reference for the binary layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel
from tritonclient.utils import serialize_byte_tensor, triton_to_np_dtype

from services.runtime.binary import decode, encode
from services.runtime.errors import TensorError
from services.runtime.tensors import DATATYPES, NUMPY_DTYPES, TensorSpec, decode_inputs

SAMPLES: dict[str, list[Any]] = {
    "BOOL": [True, False, True],
    "UINT8": [0, 7, 255], "UINT16": [0, 65535, 3], "UINT32": [0, 2**32 - 1, 9],
    "UINT64": [0, 2**64 - 1, 1], "INT8": [-128, 0, 127], "INT16": [-(2**15), 2**15 - 1, 0],
    "INT32": [-(2**31), 2**31 - 1, 5], "INT64": [-(2**63), 2**63 - 1, -1],
    "FP16": [0.5, -2.0, 65504.0], "FP32": [1.5, -0.25, 3.0], "FP64": [0.1, -1e300, 2.5],
    "BYTES": ["setosa", "", "héllo"],
}  # fmt: skip


def test_every_datatype_has_a_sample() -> None:
    assert set(SAMPLES) == DATATYPES


@pytest.mark.parametrize("datatype", sorted(DATATYPES))
def test_binary_layout_is_tritonclients_and_round_trips(datatype: str) -> None:
    values = SAMPLES[datatype]
    if datatype == "BYTES":
        reference = serialize_byte_tensor(np.array([v.encode() for v in values], dtype=object))
        expected = reference.item()
    else:
        expected = np.array(values, dtype=triton_to_np_dtype(datatype)).tobytes()
    assert encode(values, datatype) == expected
    assert decode(expected, datatype, "x") == values


@pytest.mark.parametrize(
    ("raw", "datatype", "message"),
    [
        (b"\x00" * 7, "FP64", "7 bytes of binary data are no whole number of FP64 elements"),
        (b"\x00\x02", "BOOL", "a BOOL element is one byte, 0 or 1"),
        (b"\x05\x00", "BYTES", "BYTES element 0 is cut short in its 4-byte length"),
        (b"\x05\x00\x00\x00abc", "BYTES", "BYTES element 0 needs 5 bytes, 3 are left"),
        (b"\x01\x00\x00\x00\xff", "BYTES", "BYTES element 0 is not UTF-8 text"),
    ],
)
def test_broken_binary_data_is_a_tensor_error(raw: bytes, datatype: str, message: str) -> None:
    with pytest.raises(TensorError, match=message):
        decode(raw, datatype, "x")


class Row(BaseModel):
    x: Any


@pytest.mark.parametrize(
    ("datatype", "value"),
    [("UINT8", 256), ("UINT8", -1), ("INT8", -129), ("INT64", 2**63), ("INT32", 1.5),
     ("INT16", True), ("FP16", 70000.0), ("FP32", 1e39), ("FP64", "1.0"), ("BOOL", 1),
     ("BYTES", 3)],
)  # fmt: skip
def test_json_values_outside_their_datatype_are_refused(datatype: str, value: Any) -> None:
    tensor = {"name": "x", "datatype": datatype, "shape": [1], "data": [value]}
    with pytest.raises(TensorError, match=f"is not a {datatype} value"):
        decode_inputs([tensor], [TensorSpec("x", datatype, (-1,))], Row)


@pytest.mark.parametrize("datatype", sorted(NUMPY_DTYPES))
def test_json_values_at_the_limits_of_their_datatype_are_read(datatype: str) -> None:
    values = SAMPLES[datatype]
    tensor = {"name": "x", "datatype": datatype, "shape": [len(values)], "data": values}
    rows = decode_inputs([tensor], [TensorSpec("x", datatype, (-1,))], Row)
    assert [row.x for row in rows] == values

"""Asking any model service the same way: its schema's examples as one OIP request.

Every model documents examples (its warm-up inputs) and serves the Open
Inference Protocol with one tensor per input field, so the request is built from
what the service says about itself, whatever the model; the typed predict of
some models takes uploads only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["infer", "inference_request", "same"]


def _flat(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def inference_request(url: str, model: str) -> dict[str, Any]:
    """The service's examples as an OIP request: per input tensor, the examples' field
    of that name, flattened row-major, shaped [examples, *the tensor's declared shape]."""
    examples = httpx.get(f"{url}/v1/models/{model}", timeout=10).json()["input_schema"]["examples"]
    tensors = httpx.get(f"{url}/v2/models/{model}", timeout=10).json()["inputs"]
    request = []
    for tensor in tensors:
        if -1 in tensor["shape"][1:]:
            raise NotImplementedError(f"{model}: {tensor} has a free dimension besides the batch")
        data = [v for example in examples for v in _flat(example[tensor["name"]])]
        shape = [len(examples), *tensor["shape"][1:]]
        request.append({**tensor, "shape": shape, "data": data})
    return {"inputs": request}


def infer(
    url: str, model: str, body: dict[str, Any], version: str | None = None, **kwargs: Any
) -> httpx.Response:
    """POST an OIP request, to `version` by path when given."""
    versioned = f"/versions/{version}" if version else ""
    return httpx.post(f"{url}/v2/models/{model}{versioned}/infer", json=body, timeout=60, **kwargs)


def same(actual: Any, expected: Any, rel: float = 1e-6) -> bool:
    """Equal JSON, numbers up to `rel` (another process may round a float differently)."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k], rel) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e, rel) for a, e in zip(actual, expected, strict=True))
        )
    if (
        isinstance(expected, float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
    ):
        return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-9)
    return bool(actual == expected)

"""Asking any model service from what it says about itself: its schema's examples.

Every model documents examples (its warm-up inputs). They go as one Open
Inference Protocol request when the model's tensors are its example fields
(iris, digits, minilm); otherwise as the typed predict its operations list
describes: a JSON body, or a form whose picture fields are files (styles).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from PIL import Image

__all__ = ["Request", "request_for", "same"]


@dataclass
class Request:
    """One prediction request: a path and the keyword arguments of `httpx.post`."""

    path: str
    body: dict[str, Any] = field(default_factory=dict)
    instances: int = 1

    def send(self, url: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(url + self.path, timeout=60, **self.body, **kwargs)


def _flat(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _picture(value: Any) -> np.ndarray | None:
    """The pixels of a `data:image/...;base64,` example value; None for anything else."""
    if isinstance(value, str) and value.startswith("data:image/"):
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))))
    return None


def _oip(
    model: str, examples: list[dict[str, Any]], tensors: list[dict[str, Any]]
) -> Request | None:
    """Every input tensor filled from the examples' field of its name, or None."""
    inputs = []
    for tensor in tensors:
        values = [example.get(tensor["name"]) for example in examples]
        pictures = [_picture(v) for v in values]
        if all(p is not None for p in pictures):
            rows = np.stack(pictures)  # type: ignore[arg-type]
            shape, data = list(rows.shape), rows.ravel().tolist()
        elif None in values or -1 in tensor["shape"][1:]:
            return None
        else:
            shape, data = [len(examples), *tensor["shape"][1:]], list(_flat(values))
        inputs.append({**tensor, "shape": shape, "data": data})
    return Request(f"/v2/models/{model}/infer", {"json": {"inputs": inputs}}, len(examples))


def _typed(predict: dict[str, Any], examples: list[dict[str, Any]]) -> Request:
    """The typed predict as the model's operations describe it."""
    if predict["request"] == "json":
        body = {"instances": examples} if predict["bulk"] else examples[0]
        return Request(predict["path"], {"json": body}, len(examples) if predict["bulk"] else 1)
    files, data = {}, {}
    for name, value in examples[0].items():
        picture = _picture(value)
        if picture is not None:
            files[name] = (f"{name}.png", base64.b64decode(value.split(",", 1)[1]), "image/png")
        else:
            data[name] = value
    return Request(predict["path"], {"files": files, "data": data})


def request_for(url: str, model: str) -> Request:
    """The service's examples as one prediction request (see the module docstring)."""
    metadata = httpx.get(f"{url}/v1/models/{model}", timeout=10).json()
    examples = metadata["input_schema"]["examples"]
    tensors = httpx.get(f"{url}/v2/models/{model}", timeout=10).json()["inputs"]
    return _oip(model, examples, tensors) or _typed(metadata["operations"][0], examples)


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

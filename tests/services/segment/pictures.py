"""Scenes as the segment service's callers send them, and its answers decoded."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["PREDICT", "from_data_url", "png", "upload"]

PREDICT = "/v1/models/segment/predict"


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def upload(image: np.ndarray, name: str = "scene.png") -> dict[str, Any]:
    return {"files": {"image": (name, png(image), "image/png")}}


def from_data_url(url: str) -> Image.Image:
    header, payload = url.split(",", 1)
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))

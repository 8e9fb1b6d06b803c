"""Test pictures for the styles service: scikit-learn's two sample photos, any size, format
or EXIF orientation, and what a PNG answer decodes to."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

__all__ = ["decoded", "encoded", "photo", "upload"]

ORIENTATION = 0x0112
"""The EXIF tag a camera sets when it stores a picture sideways."""


def photo(width: int, height: int, name: str = "china.jpg") -> np.ndarray:
    """A sample photo (`china.jpg` or `flower.jpg`) at width x height, uint8 RGB."""
    image = Image.fromarray(load_sample_image(name))
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS))


def encoded(picture: np.ndarray, fmt: str = "PNG", orientation: int | None = None) -> bytes:
    """The picture as a file; with `orientation`, an EXIF tag saying how to turn it."""
    image = Image.fromarray(picture)
    buffer = io.BytesIO()
    if orientation is None:
        image.save(buffer, format=fmt)
    else:
        exif = image.getexif()
        exif[ORIENTATION] = orientation
        image.save(buffer, format=fmt, exif=exif)
    return buffer.getvalue()


def upload(picture: np.ndarray, name: str = "photo.png") -> tuple[str, bytes, str]:
    """A multipart file part holding `picture` as PNG."""
    return (name, encoded(picture), "image/png")


def decoded(payload: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(payload)) as image:
        return np.asarray(image.convert("RGB"))

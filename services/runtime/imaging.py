"""Untrusted image bytes -> pictures, and pictures -> PNG, JPEG, WebP or data URLs.

Decoding is guarded: a format allow-list, a side limit, a pixel budget (Pillow's
decompression-bomb check, its warning made an error too), and any decoder failure
becomes a 422 that says what is wrong. A camera's EXIF orientation is applied, so
a portrait photo stored sideways arrives upright, as every image viewer shows it.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import Unprocessable, UnsupportedMediaType

__all__ = [
    "ENCODINGS",
    "FORMATS",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MEDIA_TYPES",
    "data_url",
    "decode",
    "encode",
    "from_data_url",
    "to_array",
]

MAX_SIDE = 4096
MAX_PIXELS = 4096 * 4096
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
MEDIA_TYPES = (
    "image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp",
    "image/x-portable-anymap", "application/octet-stream",
)  # fmt: skip
"""Upload part types read as images; `application/octet-stream` is sniffed."""
ENCODINGS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
"""Media types a picture can be answered in, with Pillow's format name."""
_LOSSY_QUALITY = 90
_DATA_URL_PREFIX = "data:"

# Pillow warns between MAX_IMAGE_PIXELS and twice that and raises above; the
# warning must refuse the image too, so it is made an error process-wide (a
# `catch_warnings` block is not thread-safe, and decoding runs in a thread pool).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def decode(payload: bytes, media_type: str = "application/octet-stream") -> Image.Image:
    """Open and fully decode one image (first frame, EXIF orientation applied), or raise 4xx."""
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"file type {media_type!r} is not an image type this model reads; "
            f"send one of {', '.join(MEDIA_TYPES)}"
        )
    if not payload:
        raise Unprocessable("the file is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(payload), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unprocessable(f"image refused as a decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise Unprocessable(f"not an image in a supported format ({', '.join(FORMATS)})") from exc
    except Exception as exc:  # a header cut short or malformed
        raise Unprocessable(f"the image header is broken or truncated: {exc}") from exc
    width, height = image.size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise Unprocessable(f"image is {width}x{height}; each side must be 1..{MAX_SIDE} pixels")
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:  # decoders raise many types for hostile bytes: all are bad input
        raise Unprocessable(f"the {image.format} image data is broken or truncated: {exc}") from exc
    return image


def to_array(image: Image.Image, channels: int) -> np.ndarray:
    """HxWx3 RGB or HxWx4 RGBA uint8; without alpha, transparency is laid on white."""
    if channels == 4:
        return np.asarray(image.convert("RGBA"))
    if image.mode.startswith("I") or image.mode == "F":
        image = Image.fromarray(_stretch(np.asarray(image.convert("F"))))
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"))


def _stretch(values: np.ndarray) -> np.ndarray:
    """16/32-bit or float pixels have no fixed white: map their own range to 0..255."""
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def encode(image: Image.Image, media_type: str = "image/png") -> bytes:
    """The picture as `media_type` (one of ENCODINGS); JPEG drops alpha (laid on white)."""
    fmt = ENCODINGS[media_type]
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = Image.fromarray(to_array(image, 3))
    options = {"quality": _LOSSY_QUALITY} if fmt in ("JPEG", "WEBP") else {}
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def data_url(payload: bytes, media_type: str = "image/png") -> str:
    return f"{_DATA_URL_PREFIX}{media_type};base64,{base64.b64encode(payload).decode('ascii')}"


def from_data_url(text: str) -> tuple[bytes, str]:
    """`data:<type>;base64,<data>` -> (bytes, type); anything else is a ValueError."""
    head, comma, body = text.partition(",")
    if not (head.startswith(_DATA_URL_PREFIX) and head.endswith(";base64") and comma):
        raise ValueError("expected a data URL: data:image/png;base64,...")
    media_type = head[len(_DATA_URL_PREFIX) : -len(";base64")] or "application/octet-stream"
    try:
        return base64.b64decode(body, validate=True), media_type
    except binascii.Error as exc:
        raise ValueError(f"the data URL's base64 is broken: {exc}") from exc

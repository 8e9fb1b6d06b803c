"""Uploaded images -> the 8x8 `load_digits` format, refusing what is not a sane image.

`load_digits` images are white ink on black, scaled so the digit fills the
height of the box and centred across it, with intensities 0..16. `canonical`
brings any photo or drawing there: grey, ink made bright, cropped to the ink,
padded to a square, shrunk to 8x8 and scaled to 0..16. Training applies the
same function to rendered training images, so served and trained inputs match.

Decoding untrusted bytes is guarded: a pixel budget (Pillow's decompression-bomb
check, warnings included), a side limit, a format allow-list, and any decoder
failure becomes a 422 naming the problem.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from services.runtime.errors import Unprocessable, UnsupportedMediaType

from .schemas import MAX_INK, SIDE

__all__ = ["FORMATS", "MAX_PIXELS", "MAX_SIDE", "MEDIA_TYPES", "canonical", "decode"]

MAX_SIDE = 4096
MAX_PIXELS = 4096 * 4096
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
MEDIA_TYPES = (
    "image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp",
    "image/x-portable-anymap", "application/octet-stream",
)  # fmt: skip
INK_FRACTION = 0.25
"""A pixel is ink when it is this bright relative to the brightest one."""
MIN_CONTRAST = 24
"""Grey levels (of 255) between background and ink below which nothing is drawn."""

# Pillow warns between MAX_IMAGE_PIXELS and twice that and raises above; the
# warning must refuse the image too, so it is made an error process-wide (a
# `catch_warnings` block is not thread-safe, and decoding runs in a thread pool).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def decode(payload: bytes, media_type: str) -> Image.Image:
    """Open and fully decode one uploaded image (first frame), or raise a 4xx error."""
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
    except Exception as exc:  # decoders raise many types for hostile bytes: all are bad input
        raise Unprocessable(f"the {image.format} image data is broken or truncated: {exc}") from exc
    return image


def canonical(image: Image.Image) -> np.ndarray:
    """The 8x8 float image (0..16, white ink on black) the network was trained on."""
    grey = _grey(image)
    if _border_median(grey) > 127:  # a light background: dark ink on paper
        grey = 255.0 - grey
    ink = np.clip(grey - _border_median(grey), 0.0, None)
    if ink.max() < MIN_CONTRAST:
        raise Unprocessable("the image is blank: no digit stands out from the background")
    rows, cols = np.nonzero(ink >= INK_FRACTION * ink.max())
    cropped = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    small = _shrink(_pad_square(cropped))
    return small * (MAX_INK / small.max())


def _grey(image: Image.Image) -> np.ndarray:
    """Grey levels 0..255; transparent areas become the background the opaque ink is not."""
    if image.mode == "F" or image.mode.startswith("I"):
        # 16/32-bit or float pixels have no fixed white: stretch their own range.
        values = np.asarray(image.convert("F"), dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        return (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if "A" not in image.getbands():
        return np.asarray(image.convert("L"), dtype=np.float32)
    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"))
    lum = np.asarray(rgba.convert("L"))
    opaque = alpha > 127
    dark_ink = bool(opaque.any()) and float(lum[opaque].mean()) < 128
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if dark_ink else (0, 0, 0, 255))
    return np.asarray(Image.alpha_composite(background, rgba).convert("L"), dtype=np.float32)


def _border_median(grey: np.ndarray) -> float:
    frame = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(frame))


def _pad_square(ink: np.ndarray) -> np.ndarray:
    height, width = ink.shape
    side = max(height, width)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = ink
    return square


def _shrink(square: np.ndarray) -> np.ndarray:
    # BOX averages the pixels each cell covers (what load_digits' 4x4 block counts
    # did); tiny crops are enlarged smoothly instead.
    image = Image.fromarray(square)  # float32 -> mode "F"
    resample = Image.Resampling.BOX if square.shape[0] >= SIDE else Image.Resampling.BILINEAR
    return np.asarray(image.resize((SIDE, SIDE), resample), dtype=np.float32)

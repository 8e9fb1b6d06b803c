"""Uploaded images -> the 8x8 `load_digits` format.

`load_digits` images are white ink on black, scaled so the digit fills the
height of the box and centred across it, with intensities 0..16. `canonical`
brings any photo or drawing there: grey, ink made bright, cropped to the ink,
padded to a square, shrunk to 8x8 and scaled to 0..16. Training applies the
same function to rendered training images, so served and trained inputs match.
Uploads are decoded by the runtime (`services.runtime.imaging.decode`: format
allow-list, size limits, EXIF orientation, 422 for broken files).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from services.runtime.errors import Unprocessable

from .schemas import MAX_INK, SIDE

__all__ = ["canonical"]

INK_FRACTION = 0.25
"""A pixel is ink when it is this bright relative to the brightest one."""
MIN_CONTRAST = 24
"""Grey levels (of 255) between background and ink below which nothing is drawn."""


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

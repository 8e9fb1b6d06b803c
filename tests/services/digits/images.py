"""Test images: load_digits rows drawn the way people upload them, and hostile files.

Renderings are made here with Pillow directly (not with the service's own
`data.render`), at sizes, colours and formats the service never trained on
exactly, so the accuracy measured through the API is about real uploads.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["LOOKS", "Look", "encode", "picture", "png_header"]


@dataclass(frozen=True)
class Look:
    size: int
    paper: bool
    """Dark ink on light paper (inverted) instead of load_digits' white on black."""
    colour: tuple[int, int, int] | None
    """Ink colour on an RGB picture; None keeps it grey."""
    fmt: str


LOOKS = (
    Look(64, paper=False, colour=None, fmt="PNG"),
    Look(28, paper=True, colour=None, fmt="PNG"),
    Look(100, paper=True, colour=(20, 40, 160), fmt="PNG"),
    Look(48, paper=False, colour=(250, 200, 30), fmt="JPEG"),
    Look(80, paper=True, colour=None, fmt="WEBP"),
)


def picture(pixels: np.ndarray, look: Look) -> Image.Image:
    """One 64-value digit as a `look.size` picture with a margin around the digit."""
    ink = (np.asarray(pixels, dtype=np.float64).reshape(8, 8) / 16.0 * 255).astype(np.uint8)
    inner = int(look.size * 0.8)
    grey = Image.fromarray(ink).resize((inner, inner), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (look.size, look.size), 0)
    canvas.paste(grey, ((look.size - inner) // 2, (look.size - inner) // 2))
    strength = np.asarray(canvas, dtype=np.float64) / 255.0
    if look.colour is None:
        values = strength * 255
        if look.paper:
            values = 255 - values
        return Image.fromarray(values.round().astype(np.uint8))
    background = np.full(3, 245.0 if look.paper else 10.0)
    rgb = background + strength[..., None] * (np.array(look.colour) - background)
    return Image.fromarray(rgb.round().astype(np.uint8))


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming `width` x `height` pixels, with almost no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )

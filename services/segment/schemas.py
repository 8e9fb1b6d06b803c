"""What the segmentation service reads and answers.

The input is one RGB picture (a multipart file `image`, any format the runtime
decodes, EXIF orientation applied). The answer is the class mask as a palette
PNG whose pixel values are the class indices (0 = background, 1 + d = digit d),
the picture with the mask tinted over it, and each class found with its pixel
area and bounding box.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from services.runtime import Image, Mask
from services.runtime.imaging import data_url
from services.runtime.model import Schema

from .regions import LABELS, PALETTE
from .scenes import HELD_OUT_SEED, digit_split, make_scenes

__all__ = [
    "MAX_SIDE",
    "MIN_SIDE",
    "Box",
    "RGBImage",
    "Region",
    "Scene",
    "SceneMask",
    "Segmentation",
]

MIN_SIDE = 16
MAX_SIDE = 1024
"""Sides the network is run on: digits are found at 16-34 pixels, and a larger
picture would cost seconds of CPU and gigabytes of activations."""

Label = Literal[LABELS]  # type: ignore[valid-type]


class RGBImage(Image):
    channels: ClassVar[int | None] = 3


class SceneMask(Mask):
    palette: ClassVar[tuple[tuple[int, int, int], ...]] = tuple(map(tuple, PALETTE.tolist()))


def _example_scene() -> str:
    """The first held-out scene as a data URL: the schema's example and the warm-up."""
    _, (digits, labels) = digit_split()
    return data_url(RGBImage.encode(make_scenes(digits, labels, 1, HELD_OUT_SEED).images[0]))


class Scene(Schema):
    """One picture to segment."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"image": _example_scene()}]})

    image: RGBImage = Field(
        description=f"An RGB picture, each side {MIN_SIDE}..{MAX_SIDE} pixels "
        "(digits about 16-34 pixels tall are found)"
    )

    @field_validator("image")
    @classmethod
    def _bounded(cls, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
            raise ValueError(
                f"the picture is {width}x{height}; each side must be {MIN_SIDE}..{MAX_SIDE} pixels"
            )
        return image


class Box(Schema):
    """Pixel bounds: `right` and `bottom` are exclusive, so width = right - left."""

    left: int = Field(ge=0)
    top: int = Field(ge=0)
    right: int = Field(ge=1)
    bottom: int = Field(ge=1)


class Region(Schema):
    label: Label = Field(description='"background" or the digit, as text')
    index: int = Field(ge=0, lt=len(LABELS), description="The class's value in the mask")
    pixels: int = Field(ge=1, description="Pixels of this class")
    box: Box = Field(description="Smallest box around every pixel of this class")


class Segmentation(Schema):
    mask: SceneMask = Field(
        description="Class per pixel, as a palette PNG whose values are the class indices"
    )
    overlay: RGBImage = Field(description="The picture with each digit tinted in its class colour")
    regions: list[Region] = Field(
        description="Every class present (background included), in index order"
    )

"""What the styles service reads and answers.

A request is a multipart form: the picture to restyle as the file part `image`, and
the style as one of `style` (a name), `weights` (a blend: JSON `{"name": weight}`
or 26 weights by index) or `style_picture` (a second file whose style is copied).
The picture is scaled down so its longer side is at most `max_side`, aspect kept;
a picture whose short side would end up under MIN_SIDE pixels is refused.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from PIL import Image as PILImage
from pydantic import ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from services.runtime import Image, Schema
from services.runtime.imaging import data_url, encode

from .names import STYLES, StyleName

__all__ = [
    "DEFAULT_SIDE",
    "MAX_SIDE",
    "MIN_SIDE",
    "RGB",
    "AllStyles",
    "StyleRequest",
    "StyleResult",
    "Styled",
    "scaled_size",
]

MIN_SIDE = 32
MAX_SIDE = 1024
DEFAULT_SIDE = 512

Weight = Annotated[float, Field(ge=0, le=1000)]
MaxSide = Annotated[
    int,
    Field(
        ge=MIN_SIDE,
        le=MAX_SIDE,
        description="The answer's longer side at most (the picture is scaled down to it, "
        "aspect kept; never up)",
    ),
]

# By name or by index; the discriminator names the shape meant in a validation error.
Blend = Annotated[
    Annotated[dict[StyleName, Weight], Tag("by_name")]
    | Annotated[
        list[Weight], Field(min_length=len(STYLES), max_length=len(STYLES)), Tag("by_index")
    ],
    Discriminator(lambda value: "by_index" if isinstance(value, list) else "by_name"),
]


class RGB(Image):
    """The pictures here are always RGB: OIP declares them `[-1, H, W, 3]`."""

    channels = 3


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled down so the longer side is at most `max_side`."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Content(Schema):
    image: RGB = Field(description="The picture to restyle (PNG, JPEG, WebP, ...)")
    max_side: MaxSide = DEFAULT_SIDE

    @model_validator(mode="after")
    def _big_enough(self) -> Content:
        height, width = self.image.shape[:2]
        scaled = scaled_size(width, height, self.max_side)
        if min(scaled) < MIN_SIDE:
            at = (
                f", {scaled[0]}x{scaled[1]} at max_side {self.max_side},"
                if scaled != (width, height)
                else ""
            )
            raise ValueError(
                f"image is {width}x{height}{at} too small: both sides need at least "
                f"{MIN_SIDE} pixels"
            )
        return self


def _example_picture(side: int = 64) -> str:
    """A small colour ramp as a PNG data URL: the schema's examples and the warm-up."""
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    rgb = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)),
                    np.full((side, side), 128, np.uint8)], axis=-1)  # fmt: skip
    return data_url(encode(PILImage.fromarray(rgb)))


EXAMPLE = _example_picture()
# A blend by index, the form the OIP `weights` tensor carries: two parts twilight, one starry.
EXAMPLE_BLEND = [{"twilight": 2.0, "starry-swirls": 1.0}.get(name, 0.0) for name in STYLES]


class StyleRequest(Content):
    """One picture restyled one way: exactly one of `style`, `weights`, `style_picture`."""

    # The warm-up runs both networks: built-in styles (one, and a blend) and a style picture.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"image": EXAMPLE, "style": "twilight"},
                                        {"image": EXAMPLE, "style_picture": EXAMPLE},
                                        {"image": EXAMPLE, "weights": EXAMPLE_BLEND}]}
    )  # fmt: skip

    style: StyleName | None = Field(None, description="One of the 26 styles, by name")
    weights: Blend | None = Field(
        None,
        description='A blend of styles by weight: {"name": weight, ...} or 26 weights in '
        "index order; normalised to sum 1, so at least one must be positive",
    )
    style_picture: RGB | None = Field(
        None, description="A second picture whose style is copied onto `image`"
    )

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, weights: dict[str, float] | list[float] | None) -> object:
        values = weights.values() if isinstance(weights, dict) else weights or [1.0]
        if not sum(values) > 0:
            raise ValueError("the weights sum to 0; give at least one style a positive weight")
        return weights

    @model_validator(mode="after")
    def _one_way(self) -> StyleRequest:
        given = [n for n in ("style", "weights", "style_picture") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of style, weights or style_picture (got {given or 'none'})"
            )
        return self


class AllStyles(Content):
    """Every style of one picture, `style` first."""

    style: StyleName = Field(STYLES[0], description="The style answered first")


class Styled(Schema):
    image: RGB = Field(description="The restyled picture")
    style: str = Field(
        description="What was applied: a style's name, `blend` or `picture` (a style picture)"
    )


class StyleResult(Schema):
    """One line of `all`: one style of the picture."""

    style: StyleName
    index: int = Field(ge=0, lt=len(STYLES), description="The style's index in the network")
    image: RGB = Field(description="The picture in this style")

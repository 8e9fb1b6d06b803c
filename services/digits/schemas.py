"""What the digits service reads and answers.

An input is one 8x8 grey image in scikit-learn's `load_digits` format: 64
row-major values from 0 (background) to 16 (full ink), white ink on black, the
digit filling the height of the box. Uploaded images are turned into this
shape by `imaging.canonical`; OIP clients may send it directly.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from services.runtime.model import Schema

__all__ = ["DIGITS", "SIDE", "DigitImage", "DigitPrediction", "Label", "TrainOptions"]

SIDE = 8
DIGITS = 10
MAX_INK = 16.0

Pixel = Annotated[float, Field(ge=0, le=MAX_INK)]
Label = Annotated[int, Field(ge=0, le=DIGITS - 1, description="The digit the image shows")]

# Two real images from load_digits (a 0 and a 7): the schema's examples and the warm-up.
_ZERO = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12,
         0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0,
         0, 0, 0, 6, 13, 10, 0, 0, 0]  # fmt: skip
_SEVEN = [0, 0, 7, 8, 13, 16, 15, 1, 0, 0, 7, 7, 4, 11, 12, 0, 0, 0, 0, 0, 8, 13, 1, 0, 0, 4, 8,
          8, 15, 15, 6, 0, 0, 2, 11, 15, 15, 4, 0, 0, 0, 0, 0, 16, 5, 0, 0, 0, 0, 0, 9, 15, 1, 0,
          0, 0, 0, 0, 13, 5, 0, 0, 0, 0]  # fmt: skip


class DigitImage(Schema):
    """One preprocessed 8x8 image: 64 row-major intensities, 0 = background, 16 = ink."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pixels": _ZERO}, {"pixels": _SEVEN}]}
    )

    pixels: list[Pixel] = Field(
        min_length=SIDE * SIDE,
        max_length=SIDE * SIDE,
        description="64 values in 0..16, row by row (scikit-learn load_digits format)",
    )


class DigitPrediction(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"digit": 7, "probabilities": [0.0, 0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 0.98, 0.0, 0.01]}
            ]
        }
    )

    digit: int = Field(ge=0, le=DIGITS - 1, description="The most probable digit")
    probabilities: list[float] = Field(
        min_length=DIGITS,
        max_length=DIGITS,
        description="Probability of each digit 0..9 (sums to 1)",
    )


class TrainOptions(Schema):
    """Form fields of `POST /v1/models/digits/train` besides the files and labels."""

    epochs: int = Field(8, ge=1, le=200, description="Passes over the uploaded + replayed images")
    learning_rate: float = Field(
        5e-4, gt=0, le=0.1, description="Adam step size (small: this fine-tunes a trained net)"
    )

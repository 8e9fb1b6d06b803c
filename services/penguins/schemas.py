"""One penguin's measurements and the predicted species (Palmer Archipelago, Antarctica).

Every input is a flat scalar, so besides the usual POST the service answers
`GET /v1/models/penguins/predict?island=...&bill_length_mm=...` with the same
fields as typed, bounded query parameters. Bounds are generous around the
data (bills 32-60 mm long and 13-22 mm deep, flippers 172-231 mm, 2.7-6.3 kg)
yet refuse values no adult penguin has.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from services.runtime.model import Schema

__all__ = ["CATEGORIES", "MEASUREMENTS", "SPECIES", "Penguin", "SpeciesPrediction"]

Species = Literal["Adelie", "Chinstrap", "Gentoo"]
SPECIES: tuple[Species, ...] = ("Adelie", "Chinstrap", "Gentoo")
Island = Literal["Biscoe", "Dream", "Torgersen"]
Sex = Literal["female", "male"]
MEASUREMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
CATEGORIES = ("island", "sex")


class Penguin(Schema):
    """Where one adult penguin was seen, its sex and its four measurements."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"island": "Torgersen", "bill_length_mm": 39.1, "bill_depth_mm": 18.7,
                 "flipper_length_mm": 181, "body_mass_g": 3750, "sex": "male"},
                {"island": "Biscoe", "bill_length_mm": 46.1, "bill_depth_mm": 13.2,
                 "flipper_length_mm": 211, "body_mass_g": 4500, "sex": "female"},
                {"island": "Dream", "bill_length_mm": 46.5, "bill_depth_mm": 17.9,
                 "flipper_length_mm": 192, "body_mass_g": 3500, "sex": "female"},
            ]
        }
    )  # fmt: skip

    island: Island = Field(description="Island of the Palmer Archipelago where it was seen")
    bill_length_mm: float = Field(
        ge=20, le=80, description="Bill (culmen) length in mm (data: 32.1-59.6)"
    )
    bill_depth_mm: float = Field(
        ge=8, le=30, description="Bill (culmen) depth in mm (data: 13.1-21.5)"
    )
    flipper_length_mm: float = Field(
        ge=120, le=280, description="Flipper length in mm (data: 172-231)"
    )
    body_mass_g: float = Field(ge=1500, le=9000, description="Body mass in grams (data: 2700-6300)")
    sex: Sex = Field(description="Sex of the penguin")


class SpeciesPrediction(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"species": "Adelie",
                 "probabilities": {"Adelie": 1.0, "Chinstrap": 0.0, "Gentoo": 0.0}}
            ]
        }
    )  # fmt: skip

    species: Species = Field(description="The most probable species")
    probabilities: dict[Species, float] = Field(
        description="Share of the nearest training penguins of each species (sums to 1)"
    )

"""Iris measurements in centimetres and the predicted species.

Bounds are generous around the real data (sepals 4.3-7.9 cm long, petals
0.1-2.5 cm wide, ...) yet reject values no iris flower has.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from services.runtime.model import Schema

Species = Literal["setosa", "versicolor", "virginica"]
SPECIES: tuple[Species, ...] = ("setosa", "versicolor", "virginica")
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


class IrisFeatures(Schema):
    """One flower's four measurements, in centimetres."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
                {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3},
            ]
        }
    )

    sepal_length: float = Field(gt=0, le=15, description="Sepal length in cm (data: 4.3-7.9)")
    sepal_width: float = Field(gt=0, le=10, description="Sepal width in cm (data: 2.0-4.4)")
    petal_length: float = Field(gt=0, le=15, description="Petal length in cm (data: 1.0-6.9)")
    petal_width: float = Field(gt=0, le=5, description="Petal width in cm (data: 0.1-2.5)")


class IrisPrediction(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "species": "setosa",
                    "probabilities": {"setosa": 0.97, "versicolor": 0.03, "virginica": 0.0},
                }
            ]
        }
    )

    species: Species = Field(description="The most probable species")
    probabilities: dict[Species, float] = Field(
        description="Probability of each species (sums to 1)"
    )

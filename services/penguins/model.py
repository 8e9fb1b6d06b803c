"""Serving the penguin classifier: a fitted scikit-learn pipeline in `model.joblib`."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd

from services.runtime.model import Model

from .schemas import SPECIES, Penguin, SpeciesPrediction

__all__ = ["ARTIFACT", "PenguinsModel", "frame"]

ARTIFACT = "model.joblib"


def frame(penguins: list[Penguin]) -> pd.DataFrame:
    """The pipeline's input: one row per penguin, one column per schema field."""
    return pd.DataFrame(
        [penguin.model_dump() for penguin in penguins], columns=list(Penguin.model_fields)
    )


class PenguinsModel(Model[Penguin, SpeciesPrediction]):
    name = "penguins"
    framework = "scikit-learn"
    Input = Penguin
    Output = SpeciesPrediction
    query_predict = True

    def load(self, path: Path) -> None:
        self.pipeline = joblib.load(path / ARTIFACT)
        classes = [str(c) for c in self.pipeline.classes_]
        if classes != list(SPECIES):
            raise ValueError(f"artifact predicts classes {classes}, expected {list(SPECIES)}")

    def predict(self, batch: list[Penguin]) -> list[SpeciesPrediction]:
        probabilities = self.pipeline.predict_proba(frame(batch))
        return [
            SpeciesPrediction(
                species=SPECIES[int(row.argmax())],
                probabilities={s: float(p) for s, p in zip(SPECIES, row, strict=True)},
            )
            for row in probabilities
        ]

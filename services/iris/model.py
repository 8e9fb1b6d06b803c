"""Serving the iris classifier: a fitted scikit-learn pipeline in `model.joblib`."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np

from services.runtime.model import Model

from .schemas import FEATURES, SPECIES, IrisFeatures, IrisPrediction

ARTIFACT = "model.joblib"


class IrisModel(Model[IrisFeatures, IrisPrediction]):
    name = "iris"
    framework = "scikit-learn"
    Input = IrisFeatures
    Output = IrisPrediction

    def load(self, path: Path) -> None:
        self.estimator = joblib.load(path / ARTIFACT)
        classes = [int(c) for c in self.estimator.classes_]
        if classes != [0, 1, 2]:
            raise ValueError(f"artifact predicts classes {classes}, expected [0, 1, 2]")

    def predict(self, batch: list[IrisFeatures]) -> list[IrisPrediction]:
        features = np.array([[getattr(row, f) for f in FEATURES] for row in batch])
        probabilities = self.estimator.predict_proba(features)
        return [
            IrisPrediction(
                species=SPECIES[int(np.argmax(row))],
                probabilities={s: float(p) for s, p in zip(SPECIES, row, strict=True)},
            )
            for row in probabilities
        ]

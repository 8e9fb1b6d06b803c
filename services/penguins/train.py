"""Training penguins versions on the `palmerpenguins` package's data.

The pipeline imputes what a row lacks (the median measurement, the most
frequent island or sex: 11 of the 344 penguins have no recorded sex), scales
the four measurements, one-hot encodes island and sex, and classifies by the
k nearest training penguins. Accuracy is measured on a stratified held-out
quarter that no version trains on. `seed` publishes v1 (`make models`);
`train` publishes the next version (`modelfleet train penguins --recipe wide`).
"""

from __future__ import annotations

import joblib
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from services.runtime.registry import Manifest, Registry

from .model import ARTIFACT, PenguinsModel
from .schemas import CATEGORIES, MEASUREMENTS

__all__ = ["RECIPES", "seed", "split", "train"]

SEED = 7
HELD_OUT = 0.25
RECIPES: dict[str, dict[str, object]] = {
    "knn": {"n_neighbors": 5, "weights": "uniform"},
    "wide": {"n_neighbors": 15, "weights": "distance"},
}


def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """(train rows, held-out rows, train species, held-out species), stratified and seeded.

    Penguins with no measurement at all (2 rows) are left out: there is nothing to
    classify them by."""
    data = load_penguins().dropna(subset=list(MEASUREMENTS), how="all")
    features = data[list(PenguinsModel.Input.model_fields)]
    return train_test_split(  # type: ignore[no-any-return]
        features, data["species"], test_size=HELD_OUT, stratify=data["species"], random_state=SEED
    )


def pipeline(recipe: str) -> Pipeline:
    if recipe not in RECIPES:
        raise ValueError(f"unknown penguins recipe {recipe!r}; choose from {sorted(RECIPES)}")
    columns = ColumnTransformer([
        ("measurements", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         list(MEASUREMENTS)),
        ("categories", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                     OneHotEncoder(handle_unknown="ignore")), list(CATEGORIES)),
    ])  # fmt: skip
    return make_pipeline(columns, KNeighborsClassifier(**RECIPES[recipe]))  # type: ignore[arg-type]


def train(registry: Registry, recipe: str = "knn") -> Manifest:
    """Fit `recipe` on the training rows, evaluate on the held-out ones, publish the next version."""
    fitted = pipeline(recipe)
    x_train, x_test, y_train, y_test = split()
    fitted.fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, fitted.predict(x_test)))
    with registry.staging(PenguinsModel.name) as staged:
        joblib.dump(fitted, staged / ARTIFACT)
        return registry.publish(
            PenguinsModel.name,
            staged,
            framework=PenguinsModel.framework,
            parent=registry.latest(PenguinsModel.name),
            metrics={"accuracy": accuracy, "test_samples": float(len(y_test))},
            params={"recipe": recipe, **RECIPES[recipe], "held_out": HELD_OUT, "seed": SEED},
        )


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 unless penguins versions already exist."""
    return [] if registry.versions(PenguinsModel.name) else [train(registry)]

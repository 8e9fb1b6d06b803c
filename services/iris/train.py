"""Training iris versions on scikit-learn's bundled iris data.

`seed` publishes the versions `make models` promises: v1, a scaled logistic
regression, and v2, a gradient-boosted tree ensemble. `train` publishes one
more version from a named recipe. Accuracy is measured on a stratified
held-out 30 % and recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable

import joblib
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from services.runtime.registry import Manifest, Registry

from .model import ARTIFACT, IrisModel

__all__ = ["RECIPES", "seed", "train"]

SEED = 7
HELD_OUT = 0.3


def _logistic() -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))


def _boosted() -> ClassifierMixin:
    return HistGradientBoostingClassifier(max_iter=60, learning_rate=0.1, random_state=SEED)


RECIPES: dict[str, Callable[[], ClassifierMixin]] = {"logistic": _logistic, "boosted": _boosted}
SEED_RECIPES = ("logistic", "boosted")


def train(registry: Registry, recipe: str = "logistic") -> Manifest:
    """Fit `recipe` on the training split, evaluate, publish the next version."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown iris recipe {recipe!r}; choose from {sorted(RECIPES)}")
    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=HELD_OUT, stratify=labels, random_state=SEED
    )
    estimator = RECIPES[recipe]().fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, estimator.predict(x_test)))
    parent = registry.latest(IrisModel.name)
    with registry.staging(IrisModel.name) as staged:
        joblib.dump(estimator, staged / ARTIFACT)
        return registry.publish(
            IrisModel.name,
            staged,
            framework=IrisModel.framework,
            parent=parent,
            metrics={"accuracy": accuracy, "test_samples": float(len(y_test))},
            params={"recipe": recipe, "held_out": HELD_OUT, "seed": SEED},
        )


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 and v2 unless iris versions already exist."""
    if registry.versions(IrisModel.name):
        return []
    return [train(registry, recipe) for recipe in SEED_RECIPES]

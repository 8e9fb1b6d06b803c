"""Training digits versions from scratch on scikit-learn's bundled digits.

`seed` publishes v1, the version `make models` promises; `train` publishes one
more (`modelfleet train digits`). Fine-tuning an existing version on uploaded
images is the model's `fine_tune`, run by the service's training jobs.
"""

from __future__ import annotations

import numpy as np
import torch

from services.runtime.registry import Manifest, Registry

from .data import SEED, as_uploaded, split
from .fitting import Schedule, evaluate, fit
from .model import DigitsModel
from .network import DigitsNet, NetworkConfig, save_network

__all__ = ["RECIPES", "seed", "train"]

RECIPES: dict[str, NetworkConfig] = {
    "cnn": NetworkConfig(),
    "wide": NetworkConfig(channels=(32, 64), hidden=128),
}
SCHEDULE = Schedule(epochs=20, learning_rate=2e-3)
TORCH_THREADS = 1
"""Small nets gain nothing from more threads; one keeps `make models` polite."""


def train(registry: Registry, recipe: str = "cnn") -> Manifest:
    """Train `recipe` on the training split (raw + rendered), evaluate, publish the next version."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown digits recipe {recipe!r}; choose from {sorted(RECIPES)}")
    torch.set_num_threads(TORCH_THREADS)
    data = split()
    pixels = np.concatenate([data.train_x, as_uploaded(data.train_x, SEED)])
    labels = np.concatenate([data.train_y, data.train_y])
    net = DigitsNet(RECIPES[recipe])
    fit(net, pixels, labels, SCHEDULE)
    with registry.staging(DigitsModel.name) as staged:
        save_network(net, staged)
        return registry.publish(
            DigitsModel.name,
            staged,
            framework=DigitsModel.framework,
            parent=None,
            metrics=evaluate(net),
            params={"recipe": recipe, "epochs": SCHEDULE.epochs, "seed": SEED,
                    "learning_rate": SCHEDULE.learning_rate},
        )  # fmt: skip


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 unless digits versions already exist."""
    if registry.versions(DigitsModel.name):
        return []
    return [train(registry)]

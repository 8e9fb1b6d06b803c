"""Training segment versions from scratch on synthetic digit scenes.

`seed` publishes v1, the version `make models` promises; `train` publishes one
more (`modelfleet train segment`). Training is bounded by its fixed number of
steps on one torch thread, and seeded: the same code gives the same weights.
"""

from __future__ import annotations

import time

import torch

from services.runtime.registry import Manifest, Registry

from .fitting import Schedule, evaluate, fit
from .model import SegmentModel
from .network import DeepLab, NetworkConfig, save_network
from .scenes import digit_split, make_scenes

__all__ = ["RECIPES", "SCHEDULE", "TRAIN_SCENES", "seed", "train"]

RECIPES: dict[str, NetworkConfig] = {
    "deeplab": NetworkConfig(),
    "wide": NetworkConfig(widths=(16, 48, 96)),
}
SEED = 7
TRAIN_SCENES = 4000
SCHEDULE = Schedule(steps=1800, batch_size=16, learning_rate=8e-3, seed=SEED, crop=48)
TORCH_THREADS = 1
"""One thread keeps `make models` on one core of a shared machine."""


def build(recipe: str, scenes: int = TRAIN_SCENES, schedule: Schedule = SCHEDULE) -> DeepLab:
    """A net of `recipe` trained on `scenes` training scenes: the same weights for the same
    arguments."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown segment recipe {recipe!r}; choose from {sorted(RECIPES)}")
    torch.set_num_threads(TORCH_THREADS)
    (digits, labels), _ = digit_split()
    training = make_scenes(digits, labels, scenes, schedule.seed)
    torch.manual_seed(schedule.seed)  # the initial weights
    net = DeepLab(RECIPES[recipe])
    fit(net, training, schedule)
    return net


def train(registry: Registry, recipe: str = "deeplab") -> Manifest:
    """Train `recipe`, evaluate it on the held-out scenes, publish the next version."""
    started = time.process_time()
    net = build(recipe)
    metrics = {"train_cpu_seconds": time.process_time() - started, **evaluate(net)}
    with registry.staging(SegmentModel.name) as staged:
        save_network(net, staged)
        return registry.publish(
            SegmentModel.name,
            staged,
            framework=SegmentModel.framework,
            parent=registry.latest(SegmentModel.name),
            metrics=metrics,
            params={"recipe": recipe, "scenes": TRAIN_SCENES, "steps": SCHEDULE.steps,
                    "batch_size": SCHEDULE.batch_size, "learning_rate": SCHEDULE.learning_rate,
                    "crop": SCHEDULE.crop, "seed": SEED},
        )  # fmt: skip


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 unless segment versions already exist."""
    return [] if registry.versions(SegmentModel.name) else [train(registry)]

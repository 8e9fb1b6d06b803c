"""Training and evaluating a `DigitsNet` on `[n, 64]` arrays of load_digits values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import SEED, as_uploaded, split
from .network import DigitsNet, to_tensor

__all__ = ["Schedule", "evaluate", "fit", "probabilities"]

EVAL_SEED = SEED + 1
"""Seed of the held-out renderings: the same images for every version, so versions compare."""


@dataclass(frozen=True)
class Schedule:
    epochs: int
    learning_rate: float
    batch_size: int = 64
    seed: int = SEED


def fit(
    net: DigitsNet,
    pixels: np.ndarray,
    labels: np.ndarray,
    schedule: Schedule,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Adam on cross-entropy, shuffled mini-batches; `progress` after every epoch."""
    generator = torch.Generator().manual_seed(schedule.seed)
    torch.manual_seed(schedule.seed)  # dropout masks
    inputs, targets = to_tensor(pixels), torch.as_tensor(labels, dtype=torch.long)
    optimiser = torch.optim.Adam(net.parameters(), lr=schedule.learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for epoch in range(schedule.epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), schedule.batch_size):
            batch = order[start : start + schedule.batch_size]
            optimiser.zero_grad()
            loss_fn(net(inputs[batch]), targets[batch]).backward()
            optimiser.step()
        if progress is not None:
            progress((epoch + 1) / schedule.epochs)
    net.eval()


def probabilities(net: DigitsNet, pixels: np.ndarray | list[list[float]]) -> np.ndarray:
    """`[n, 10]` class probabilities for rows of 64 values."""
    with torch.inference_mode():
        return torch.softmax(net(to_tensor(pixels)), dim=1).numpy()


def _accuracy(net: DigitsNet, pixels: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities(net, pixels).argmax(axis=1) == labels).mean())


def evaluate(net: DigitsNet) -> dict[str, float]:
    """Held-out metrics: `accuracy` on images as uploads become, `pixel_accuracy` on raw arrays."""
    data = split()
    return {
        "accuracy": _accuracy(net, as_uploaded(data.test_x, EVAL_SEED), data.test_y),
        "pixel_accuracy": _accuracy(net, data.test_x, data.test_y),
        "test_samples": float(len(data.test_y)),
    }

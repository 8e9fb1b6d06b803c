"""Training a `DeepLab` on synthetic scenes, and measuring it by mean IoU on held-out ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from .network import DeepLab, to_tensor
from .scenes import CLASSES, Scenes, held_out

__all__ = ["Schedule", "confusion", "evaluate", "fit", "mean_iou", "segment"]

EVAL_BATCH = 50


@dataclass(frozen=True)
class Schedule:
    steps: int
    """Optimiser steps: the whole bound on training time."""
    batch_size: int
    learning_rate: float
    seed: int
    crop: int
    """Side of the random squares cut from the scenes to train on; the net is fully
    convolutional and segments whole pictures."""


def fit(net: DeepLab, scenes: Scenes, schedule: Schedule) -> None:
    """AdamW on per-pixel cross-entropy over random crops of random scenes, one-cycle
    learning rate.

    Channels-last tensors and AdamW's multi-tensor step take about a fifth off each step's
    CPU time on one thread; the net goes back to the default layout when done.
    """
    rng = np.random.default_rng(schedule.seed)
    torch.manual_seed(schedule.seed)
    window = (schedule.crop, schedule.crop)
    images = sliding_window_view(scenes.images, window, axis=(1, 2))  # [n, top, left, 3, y, x]
    masks = sliding_window_view(scenes.masks, window, axis=(1, 2))  # [n, top, left, y, x]
    net.to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=schedule.learning_rate, weight_decay=1e-4, foreach=True
    )
    rate = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=schedule.learning_rate, total_steps=schedule.steps
    )
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for _ in range(schedule.steps):
        at = tuple(rng.integers(limit, size=schedule.batch_size) for limit in masks.shape[:3])
        optimiser.zero_grad()
        # NHWC pixels make to_tensor's NCHW tensor channels-last without another copy.
        inputs = to_tensor(np.moveaxis(images[at], 1, -1))
        loss_fn(net(inputs), torch.from_numpy(masks[at]).long()).backward()
        optimiser.step()
        rate.step()
    net.to(memory_format=torch.contiguous_format).eval()


def segment(net: DeepLab, images: np.ndarray) -> np.ndarray:
    """Class masks `[n, h, w]` uint8 for uint8 RGB images `[n, h, w, 3]`."""
    with torch.inference_mode():
        return net(to_tensor(images)).argmax(dim=1).to(torch.uint8).numpy()


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """`[CLASSES, CLASSES]` pixel counts: row = true class, column = predicted class."""
    pairs = truth.astype(np.int64).ravel() * CLASSES + predicted.astype(np.int64).ravel()
    return np.bincount(pairs, minlength=CLASSES * CLASSES).reshape(CLASSES, CLASSES)


def mean_iou(counts: np.ndarray) -> float:
    """Mean over the classes present (in truth or prediction) of intersection / union."""
    intersection = np.diag(counts).astype(np.float64)
    union = counts.sum(axis=0) + counts.sum(axis=1) - intersection
    present = union > 0
    return float((intersection[present] / union[present]).mean())


def evaluate(net: DeepLab) -> dict[str, float]:
    """Held-out metrics: `mean_iou` over the 11 classes, `pixel_accuracy`, `test_scenes`."""
    scenes = held_out()
    counts = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    for start in range(0, len(scenes.images), EVAL_BATCH):
        predicted = segment(net, scenes.images[start : start + EVAL_BATCH])
        counts += confusion(scenes.masks[start : start + EVAL_BATCH], predicted)
    return {
        "mean_iou": mean_iou(counts),
        "pixel_accuracy": float(np.trace(counts) / counts.sum()),
        "test_scenes": float(len(scenes.images)),
    }

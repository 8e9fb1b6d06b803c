"""Serving the segmentation network (PyTorch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from services.runtime.model import Model

from .fitting import segment
from .network import DeepLab, load_network
from .regions import LABELS, overlay, regions
from .schemas import Box, Region, Scene, Segmentation

__all__ = ["SegmentModel"]


class SegmentModel(Model[Scene, Segmentation]):
    name = "segment"
    framework = "pytorch"
    Input = Scene
    Output = Segmentation

    def prepare_thread(self) -> None:
        torch.set_num_threads(self.torch_threads)

    def load(self, path: Path) -> None:
        self.net: DeepLab = load_network(path)

    def predict(self, batch: list[Scene]) -> list[Segmentation]:
        # Pictures of one size share one forward pass; each size is one pass.
        by_size: dict[tuple[int, ...], list[int]] = {}
        for i, scene in enumerate(batch):
            by_size.setdefault(scene.image.shape, []).append(i)
        masks: dict[int, np.ndarray] = {}
        for indices in by_size.values():
            stacked = np.stack([batch[i].image for i in indices])
            masks.update(zip(indices, segment(self.net, stacked), strict=True))
        return [_answer(scene.image, masks[i]) for i, scene in enumerate(batch)]


def _answer(image: np.ndarray, mask: np.ndarray) -> Segmentation:
    found = [
        Region(label=LABELS[index], index=index, pixels=pixels,
               box=Box(left=left, top=top, right=right, bottom=bottom))
        for index, pixels, (left, top, right, bottom) in regions(mask)
    ]  # fmt: skip
    return Segmentation(mask=mask, overlay=overlay(image, mask), regions=found)

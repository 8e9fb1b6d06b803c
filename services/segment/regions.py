"""What a class mask says: per-class pixel areas and boxes, its palette, an overlay."""

from __future__ import annotations

import numpy as np

__all__ = ["LABELS", "OVERLAY_OPACITY", "PALETTE", "Found", "overlay", "regions"]

LABELS = ("background", *(str(d) for d in range(10)))
"""Class names by mask index: 0 is the background, 1 + d the digit d."""
PALETTE = np.array(
    [(0, 0, 0), (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
     (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)],
    dtype=np.uint8,
)  # fmt: skip
"""RGB colour of each class in the mask PNG and the overlay (matplotlib's tab10 for digits)."""
OVERLAY_OPACITY = 0.6


Found = tuple[int, int, tuple[int, int, int, int]]
"""(class index, pixels, (left, top, right, bottom)): right and bottom are exclusive."""


def regions(mask: np.ndarray) -> list[Found]:
    """Every class present in `mask` (`[h, w]` class indices), in index order."""
    areas = np.bincount(mask.ravel(), minlength=len(LABELS))
    found = []
    for index in np.flatnonzero(areas):
        rows = np.flatnonzero((mask == index).any(axis=1))
        cols = np.flatnonzero((mask == index).any(axis=0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        found.append((int(index), int(areas[index]), box))
    return found


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The picture with each digit's pixels tinted in its class colour (background unchanged)."""
    tinted = image.astype(np.float32)
    digits = mask > 0
    tinted[digits] = (1 - OVERLAY_OPACITY) * tinted[digits] + OVERLAY_OPACITY * PALETTE[
        mask[digits]
    ]
    return tinted.round().astype(np.uint8)

"""scikit-learn's bundled `load_digits`, split once, and rendered like real uploads.

The held-out quarter is never trained on, by the seed version or by any
fine-tuning job: every version's accuracy is measured on it. Training images
appear twice, as the raw 8x8 arrays (what OIP clients send) and as a rendering
at a random size and resampling passed through `imaging.canonical` (what an
uploaded image becomes), so both routes in are in the training distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .imaging import canonical
from .schemas import MAX_INK, SIDE

__all__ = ["HELD_OUT", "SEED", "Split", "as_uploaded", "render", "split"]

SEED = 7
HELD_OUT = 0.25
RENDER_SIZES = (12, 16, 24, 32, 48, 64)
RESAMPLING = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


@dataclass(frozen=True)
class Split:
    train_x: np.ndarray
    """`[n, 64]` float32, 0..16."""
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


@cache
def split() -> Split:
    pixels, labels = load_digits(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        pixels.astype(np.float32), labels, test_size=HELD_OUT, stratify=labels, random_state=SEED
    )
    return Split(train_x, train_y, test_x, test_y)


def render(pixels: np.ndarray, size: int, resample: Image.Resampling) -> Image.Image:
    """One 64-value image drawn as a `size` x `size` grey picture, white ink on black."""
    grey = (np.asarray(pixels, dtype=np.float32).reshape(SIDE, SIDE) * (255 / MAX_INK)).round()
    return Image.fromarray(grey.astype(np.uint8)).resize((size, size), resample)


def as_uploaded(pixels: np.ndarray, seed: int) -> np.ndarray:
    """Each row rendered at a random size and resampling, then canonicalised: `[n, 64]`."""
    rng = np.random.default_rng(seed)
    rows = [
        canonical(render(row, int(rng.choice(RENDER_SIZES)), RESAMPLING[rng.integers(3)]))
        for row in pixels
    ]
    return np.stack(rows).reshape(len(rows), SIDE * SIDE).astype(np.float32)

"""Synthetic scenes: scikit-learn's digits strewn over a textured, noisy background.

A scene is an RGB picture and its class mask (0 = background, 1 + d = digit
d). Each digit is one 8x8 `load_digits` image, enlarged to a random size,
rotated by a random angle and painted in a random colour where it does not
overlap another; the background is a smooth colour field with stripes and
per-pixel noise. The mask marks where a digit's ink covers at least
`INK_THRESHOLD` of a pixel.

The digits are split once: training scenes are made from three quarters of
them, held-out scenes (seeded apart) from the other quarter only, so no
held-out digit image is ever trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

__all__ = [
    "CLASSES",
    "HELD_OUT_SEED",
    "SIDE",
    "Scenes",
    "digit_split",
    "held_out",
    "make_scenes",
]

CLASSES = 11
"""Background and the ten digits: class 1 + d is digit d."""
SIDE = 64
"""Side of a generated scene in pixels."""
DIGITS_PER_SCENE = (2, 4)
DIGIT_SIZES = (16, 30)
"""Side of an enlarged digit before rotation, in pixels (inclusive range)."""
MAX_ROTATION = 15.0
"""Degrees either way: more would make a 6 and a 9 the same shape."""
INK_THRESHOLD = 0.3
EDGE = 0.15
"""Coverage over which paint goes from none to full, centred on INK_THRESHOLD: the
painted edge is about a pixel wide and the mask's border lies in its middle."""
MIN_CONTRAST = 90.0
"""Least distance (0..255 RGB) between ink and background colours."""
NOISE = (4.0, 14.0)
"""Range of the per-pixel noise's standard deviation, in grey levels."""
SPLIT_SEED = 7
HELD_OUT = 0.25
HELD_OUT_SEED = 1011
HELD_OUT_SCENES = 300
MAX_TRIES = 30
"""Placements tried per digit before the scene goes without it."""


@dataclass(frozen=True)
class Scenes:
    images: np.ndarray
    """`[n, SIDE, SIDE, 3]` uint8 RGB."""
    masks: np.ndarray
    """`[n, SIDE, SIDE]` uint8 class indices."""


@cache
def digit_split() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((train images, labels), (held-out images, labels)); images `[n, 8, 8]` in 0..1."""
    pixels, labels = load_digits(return_X_y=True)
    images = (pixels / 16.0).reshape(-1, 8, 8).astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=HELD_OUT, stratify=labels, random_state=SPLIT_SEED
    )
    return (train_x, train_y), (test_x, test_y)


@cache
def held_out() -> Scenes:
    """The evaluation scenes every version is measured on (digits never trained on)."""
    _, (images, labels) = digit_split()
    return make_scenes(images, labels, HELD_OUT_SCENES, HELD_OUT_SEED)


def make_scenes(digits: np.ndarray, labels: np.ndarray, count: int, seed: int) -> Scenes:
    """`count` scenes drawn from `digits` (`[n, 8, 8]` in 0..1), the same for the same seed."""
    rng = np.random.default_rng(seed)
    images = np.empty((count, SIDE, SIDE, 3), dtype=np.uint8)
    masks = np.empty((count, SIDE, SIDE), dtype=np.uint8)
    for i in range(count):
        images[i], masks[i] = _scene(rng, digits, labels)
    return Scenes(images, masks)


def _scene(
    rng: np.random.Generator, digits: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    canvas = _background(rng)
    mask = np.zeros((SIDE, SIDE), dtype=np.uint8)
    taken = np.zeros((SIDE, SIDE), dtype=bool)
    for _ in range(rng.integers(DIGITS_PER_SCENE[0], DIGITS_PER_SCENE[1] + 1)):
        pick = rng.integers(len(digits))
        ink = _ink(rng, digits[pick])
        paint = np.clip((ink - INK_THRESHOLD) / EDGE + 0.5, 0.0, 1.0)
        spot = _free_spot(rng, paint > 0, taken)
        if spot is None:
            continue
        top, left = spot
        height, width = ink.shape
        area = (slice(top, top + height), slice(left, left + width))
        alpha = paint[..., None]
        canvas[area] = canvas[area] * (1 - alpha) + _ink_colour(rng, canvas[area]) * alpha
        mask[area][ink >= INK_THRESHOLD] = 1 + labels[pick]
        taken[area] |= paint > 0
    noisy = canvas + rng.uniform(*NOISE) * rng.standard_normal(canvas.shape, dtype=np.float32)
    return np.clip(noisy, 0, 255).round().astype(np.uint8), mask


def _background(rng: np.random.Generator) -> np.ndarray:
    """A smooth random colour field with faint stripes: `[SIDE, SIDE, 3]` float 0..255."""
    coarse = Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8))
    field = np.asarray(coarse.resize((SIDE, SIDE), Image.Resampling.BICUBIC), dtype=np.float32)
    rows, cols = _grid()
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 16)
    phase = (rows * np.cos(angle) + cols * np.sin(angle)) * (2 * np.pi / period)
    stripes = rng.uniform(5, 25) * np.sin(phase)[..., None]
    return np.clip(field + stripes, 0, 255)


@cache
def _grid() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    return rows, cols


def _ink(rng: np.random.Generator, digit: np.ndarray) -> np.ndarray:
    """One digit enlarged and rotated: ink coverage `[h, w]` in 0..1."""
    size = int(rng.integers(DIGIT_SIZES[0], DIGIT_SIZES[1] + 1))
    image = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    angle = float(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
    rotated = image.rotate(angle, Image.Resampling.BILINEAR, expand=True)
    return np.clip(np.asarray(rotated, dtype=np.float32), 0.0, 1.0)


def _free_spot(
    rng: np.random.Generator, footprint: np.ndarray, taken: np.ndarray
) -> tuple[int, int] | None:
    """A top-left corner inside the scene where this footprint meets no other digit's."""
    height, width = footprint.shape
    if height > SIDE or width > SIDE:
        return None
    for _ in range(MAX_TRIES):
        top, left = int(rng.integers(SIDE - height + 1)), int(rng.integers(SIDE - width + 1))
        if not taken[top : top + height, left : left + width][footprint].any():
            return top, left
    return None


def _ink_colour(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    """A random colour that stands out from the mean colour of the background it covers."""
    mean = under.reshape(-1, 3).mean(axis=0)
    for _ in range(MAX_TRIES):
        colour = rng.uniform(0, 255, 3)
        if np.linalg.norm(colour - mean) >= MIN_CONTRAST:
            return colour.astype(np.float32)
    return np.where(mean > 127, 0.0, 255.0).astype(np.float32)

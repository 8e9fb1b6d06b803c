"""The synthetic scenes: seeded, several digits on a busy background, held-out digits apart."""

from __future__ import annotations

import math

import numpy as np
from sklearn.datasets import load_digits

from services.segment.scenes import (
    CLASSES,
    DIGITS_PER_SCENE,
    HELD_OUT_SCENES,
    SIDE,
    digit_split,
    held_out,
    make_scenes,
)


def test_the_same_seed_makes_the_same_scenes_and_another_seed_others() -> None:
    (digits, labels), _ = digit_split()
    first, again = make_scenes(digits, labels, 5, 3), make_scenes(digits, labels, 5, 3)
    other = make_scenes(digits, labels, 5, 4)
    assert (first.images == again.images).all() and (first.masks == again.masks).all()
    assert not (first.images == other.images).all()


def test_scenes_hold_several_digits_as_classes_1_to_10_on_a_textured_noisy_background() -> None:
    scenes = held_out()
    assert scenes.images.shape == (HELD_OUT_SCENES, SIDE, SIDE, 3)
    assert scenes.masks.shape == (HELD_OUT_SCENES, SIDE, SIDE)
    assert scenes.masks.max() < CLASSES
    digits_shown = [len(np.unique(mask)) - 1 for mask in scenes.masks]
    assert min(digits_shown) >= 1 and max(digits_shown) <= DIGITS_PER_SCENE[1]
    assert np.mean(digits_shown) >= 2
    assert set(np.unique(scenes.masks)) == set(range(CLASSES))
    background = scenes.images[scenes.masks == 0].astype(float)
    assert background.std(axis=0).min() > 30  # not a flat colour


def test_the_held_out_digits_are_a_quarter_of_load_digits_apart_from_the_training_ones() -> None:
    (train, train_labels), (test, test_labels) = digit_split()
    total = len(load_digits().data)
    assert len(train) + len(test) == total and len(test) == math.ceil(total * 0.25)
    assert not {image.tobytes() for image in train} & {image.tobytes() for image in test}
    assert set(train_labels) == set(test_labels) == set(range(10))

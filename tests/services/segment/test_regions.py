"""Areas, boxes and the overlay computed from a class mask."""

from __future__ import annotations

import numpy as np

from services.segment.regions import OVERLAY_OPACITY, PALETTE, overlay, regions


def test_every_present_class_gets_its_pixel_count_and_exclusive_box() -> None:
    mask = np.zeros((6, 8), dtype=np.uint8)
    mask[1:3, 2:5] = 4  # digit 3: 2 rows x 3 columns
    mask[5, 7] = 10  # digit 9: one pixel in the corner
    assert regions(mask) == [
        (0, 48 - 7, (0, 0, 8, 6)),
        (4, 6, (2, 1, 5, 3)),
        (10, 1, (7, 5, 8, 6)),
    ]


def test_a_mask_of_background_only_has_one_region() -> None:
    assert regions(np.zeros((3, 5), dtype=np.uint8)) == [(0, 15, (0, 0, 5, 3))]


def test_the_overlay_tints_digits_and_leaves_the_background_as_it_was() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    mask = np.zeros((5, 7), dtype=np.uint8)
    mask[2:4, 1:3] = 8
    tinted = overlay(image, mask)
    assert tinted.shape == image.shape and tinted.dtype == np.uint8
    assert (tinted[mask == 0] == image[mask == 0]).all()
    expected = (1 - OVERLAY_OPACITY) * image[mask == 8] + OVERLAY_OPACITY * PALETTE[8]
    assert np.abs(tinted[mask == 8].astype(float) - expected).max() <= 0.5

"""Screenshots as test artifacts, and checks of what they show.

Each flow's full-page screenshot is written to `test-artifacts/playground/<name>.png`
(or under `$MODELFLEET_TEST_ARTIFACTS`); the checks read that picture, so a page
that only has the right DOM but draws nothing fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page

__all__ = ["ARTIFACTS", "colour_share", "region", "screenshot"]

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = (
    Path(os.environ.get("MODELFLEET_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "playground"
)
PAGE_BOX = """e => { const r = e.getBoundingClientRect();
  return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; }"""


def screenshot(page: Page, name: str, full_page: bool = True) -> Image.Image:
    """Save the whole page (or what the window shows) as `name`.png and return it; it
    must not be blank."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    image = Image.open(path).convert("RGB")
    pixels = np.asarray(image.resize((image.width // 4, image.height // 4)))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert colours > 50 and pixels.std() > 20, f"{path} looks blank ({colours} colours)"
    return image


def region(image: Image.Image, element: Locator) -> Image.Image:
    """The part of a full-page screenshot where `element` is drawn."""
    left, top, right, bottom = element.evaluate(PAGE_BOX)
    assert right - left >= 1 and bottom - top >= 1, "the element takes no space"
    return image.crop((round(left), round(top), round(right), round(bottom)))


def colour_share(image: Image.Image, hex_colour: str, tolerance: int = 24) -> float:
    """The fraction of `image`'s pixels within `tolerance` of `hex_colour` ("#2563eb")."""
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(image, dtype=np.int32).reshape(-1, 3)
    return float((np.abs(pixels - target).max(axis=1) <= tolerance).mean())

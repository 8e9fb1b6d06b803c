"""Pictures in and out through the playground: style transfer (one style, then every
style streamed into a gallery) and segmentation (overlay, mask toggle, legend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from services.segment.scenes import held_out
from tests.services.segment.pictures import png
from tests.services.styles.pictures import encoded, photo

from .conftest import Stack, choose, panel
from .screens import colour_share, region, screenshot

STYLES = 26


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pictures")
    files = {"photo": folder / "china.png", "scene": folder / "scene.png"}
    files["photo"].write_bytes(encoded(photo(160, 120)))
    files["scene"].write_bytes(png(held_out().images[0]))
    return files


def test_styles_shows_the_chosen_style(page: Page, pictures: dict[str, Path]) -> None:
    choose(page, "styles")
    form = panel(page)
    form.locator("#styles-predict-0-image").set_input_files(pictures["photo"])
    expect(form.locator("[data-field=image] .previews img")).to_be_visible()
    form.locator("#styles-predict-0-style").select_option(label="bold-ink")
    form.get_by_role("button", name="Send").click()
    card = page.locator(".rendered .card")
    expect(card.locator("[data-name=style] .value")).to_have_text("bold-ink")
    picture = card.locator("img.picture")
    expect(picture).to_be_visible()
    shot = screenshot(page, "styles-predict")
    drawn = np.asarray(region(shot, picture), dtype=float)
    assert drawn.std() > 20, "the restyled picture is drawn"


def test_styles_streams_every_style_into_a_gallery(page: Page, pictures: dict[str, Path]) -> None:
    choose(page, "styles", "all")
    form = panel(page)
    form.locator("#styles-all-0-image").set_input_files(pictures["photo"])
    form.locator("#styles-all-0-max_side").fill("64")
    form.locator("#styles-all-0-style").select_option(label="starry-swirls")
    form.get_by_role("button", name="Send").click()
    cards = form.locator(".rendered .gallery .card")
    expect(cards.first.locator("[data-name=style] .value")).to_have_text("starry-swirls")
    expect(cards).to_have_count(STYLES, timeout=120_000)
    styles = cards.locator("[data-name=style] .value").all_inner_texts()
    assert len(set(styles)) == STYLES
    received = [int(c.get_attribute("data-received-ms") or 0) for c in cards.all()]
    assert received == sorted(received) and received[0] < received[-1], "shown as they arrived"
    shot = screenshot(page, "styles-gallery")
    for index in (0, STYLES - 1):
        drawn = np.asarray(region(shot, cards.nth(index).locator("img.picture")), dtype=float)
        assert drawn.std() > 20, f"gallery picture {index} is drawn"


def test_segment_shows_the_overlay_a_mask_toggle_and_a_legend(
    page: Page, stack: Stack, pictures: dict[str, Path]
) -> None:
    choose(page, "segment")
    form = panel(page)
    form.locator("#segment-predict-0-image").set_input_files(pictures["scene"])
    form.get_by_role("button", name="Send").click()
    view = page.locator(".rendered .segmentation")
    expect(view.locator("img.picture")).to_be_visible()
    legend = view.locator(".legend li")
    expect(legend.first).to_contain_text("background")
    # The legend lists the classes the service found, with their areas.
    answer = _segment_directly(stack, pictures["scene"])
    expect(legend).to_have_count(len(answer["regions"]))
    for item, found in zip(legend.all(), answer["regions"], strict=True):
        expect(item).to_contain_text(f"{found['label']} · {found['pixels']} px")
    expect(page.locator(".rendered [data-name=regions] tbody tr")).to_have_count(
        len(answer["regions"])
    )

    layers = view.locator(".layers")
    before = np.asarray(region(screenshot(page, "segment-overlay"), layers), dtype=float)
    view.get_by_label("show the class mask").check()
    expect(view.locator("img.mask-layer")).to_be_visible()
    shot = screenshot(page, "segment-mask")
    after = np.asarray(region(shot, layers), dtype=float)
    assert np.abs(after - before).mean() > 5, "the mask is drawn over the overlay"
    for item in legend.all():
        colour = item.get_attribute("data-colour") or ""
        assert colour_share(region(shot, item.locator(".swatch")), colour, 8) > 0.5, colour


def _segment_directly(stack: Stack, scene: Path) -> dict[str, Any]:
    files = {"image": (scene.name, scene.read_bytes(), "image/png")}
    return dict(stack.post("/models/segment/predict", files=files).json()["predictions"][0])

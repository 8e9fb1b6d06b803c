"""Each model `make run` serves, used through the playground as a person would:
the form comes from the schema, a preset fills it, sending shows the answer by kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from services.digits.data import split
from tests.services.digits.images import LOOKS, encode, picture

from .conftest import Stack, choose, drop_file, panel
from .screens import colour_share, region, screenshot

BAR = "#2563eb"
MARK = "#fde68a"


def bar_widths(page: Page) -> dict[str, float]:
    """Each bar's drawn width as a share of its track, by label."""
    rows = page.locator(".rendered .bars li")
    return {
        row.get_attribute("data-label") or "": row.locator(".bar").bounding_box()["width"]  # type: ignore[index]
        / row.locator(".track").bounding_box()["width"]  # type: ignore[index]
        for row in rows.all()
    }


def test_iris_sliders_come_from_the_schema_and_move_the_bars(page: Page) -> None:
    choose(page, "iris")
    form = panel(page)
    sliders = form.locator("input[type=range]")
    expect(sliders).to_have_count(4)
    # petal_width: gt=0, le=5 in the schema
    expect(form.locator("#iris-predict-0-petal_width-slider")).to_have_attribute("max", "5")
    expect(form.locator("[data-field=sepal_length] .help")).to_contain_text("cm")
    form.get_by_role("button", name="example 1").click()
    expect(form.locator("#iris-predict-0-petal_width")).to_have_value("0.2")
    form.get_by_role("button", name="Send").click()
    bars = page.locator(".rendered .bars li")
    expect(bars.first).to_have_attribute("data-label", "setosa")
    before = bar_widths(page)
    assert before["setosa"] > 0.8

    # Moving the petal sliders answers at once: the bars follow.
    for field, value in (("petal_length", "6"), ("petal_width", "2.4")):
        slider = form.locator(f"#iris-predict-0-{field}-slider")
        slider.fill(value)
    expect(bars.first).to_have_attribute("data-label", "virginica")
    after = bar_widths(page)
    assert after["virginica"] > 0.5 and after["setosa"] < before["setosa"]

    shot = screenshot(page, "iris-sliders")
    top = region(shot, bars.first.locator(".track"))
    drawn = colour_share(top, BAR)
    assert drawn == pytest.approx(after["virginica"], abs=0.12), "the top bar as drawn"


@pytest.fixture(scope="module")
def seven(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A held-out 7 (never trained on), drawn as dark ink on paper, as a PNG file."""
    held_out = split()
    index = int(np.flatnonzero(held_out.test_y == 7)[0])
    path = tmp_path_factory.mktemp("digits") / "seven.png"
    path.write_bytes(encode(picture(held_out.test_x[index], LOOKS[1]), "PNG"))
    return path, held_out.test_x[index]


def test_digits_shows_an_uploaded_digit_with_its_probability_bars(
    page: Page, seven: tuple[Path, np.ndarray]
) -> None:
    path, pixels = seven
    choose(page, "digits")
    form = panel(page)
    drop_file(form.locator(".drop"), "seven.png", path.read_bytes())
    expect(form.locator(".previews li")).to_contain_text("seven.png")
    form.get_by_role("button", name="Send").click()
    card = page.locator(".rendered .card")
    expect(card.locator("[data-name=digit] .value")).to_have_text("7")
    expect(card.locator(".bars li")).to_have_count(10)
    expect(card.locator(".bars li").first).to_have_attribute("data-label", "7")

    shot = screenshot(page, "digits-upload")
    shown = np.asarray(region(shot, card.locator(".input-picture")).convert("L"), dtype=float)
    # The picture on the card is the uploaded digit: dark ink where the 8x8 original has ink.
    small = np.asarray(Image.fromarray(255 - shown.astype(np.uint8)).resize((10, 10)), dtype=float)
    ink = small[1:9, 1:9].ravel()
    assert np.corrcoef(ink, pixels)[0, 1] > 0.7
    assert colour_share(region(shot, card.locator(".bars li").first.locator(".track")), BAR) > 0.8


def test_minilm_answer_highlights_the_chosen_sentence_in_its_context(page: Page) -> None:
    choose(page, "minilm", "answer")
    form = panel(page)
    form.get_by_role("button", name="example 1").click()
    expect(form.locator("#minilm-answer-0-question")).to_have_value("Where is the Eiffel Tower?")
    form.get_by_role("button", name="Send").click()
    mark = page.locator(".rendered .in-context mark")
    expect(mark).to_have_text("The Eiffel Tower is in Paris.")
    expect(page.locator(".rendered .in-context")).to_contain_text("Gustave Eiffel's company")
    runners = page.locator(".rendered [data-name=runners_up] tbody tr")
    expect(runners).to_have_count(2)

    shot = screenshot(page, "minilm-answer")
    assert colour_share(region(shot, mark), MARK) > 0.4, "the sentence is drawn highlighted"


def test_minilm_embeddings_are_summarised_with_the_cosine_of_two_texts(
    page: Page, stack: Stack
) -> None:
    choose(page, "minilm")
    form = panel(page)
    form.get_by_label("several inputs (bulk)").check()
    texts = ["How do I reset my password?", "I forgot my password and cannot log in."]
    for index, text in enumerate(texts):
        form.locator(f"#minilm-predict-{index}-text").fill(text)
    form.get_by_role("button", name="Send").click()
    vectors = page.locator(".rendered .vector")
    expect(vectors).to_have_count(2)
    expect(vectors.first).to_contain_text("384 dimensions · L2 norm 1.000")
    cosine_cell = page.locator(".rendered .similarity tbody td").nth(2)
    expect(cosine_cell).to_have_text(_cosine_through_the_api(stack, texts))

    shot = screenshot(page, "minilm-embeddings")
    assert np.asarray(region(shot, page.locator(".rendered .similarity"))).std() > 10


def _cosine_through_the_api(stack: Stack, texts: list[str]) -> str:
    answer = stack.post("/models/minilm/predict", {"instances": [{"text": t} for t in texts]})
    a, b = (np.array(p["embedding"]) for p in answer.json()["predictions"])
    return f"{a @ b / (np.linalg.norm(a) * np.linalg.norm(b)):.3f}"


def test_penguins_answers_its_query_form(page: Page) -> None:
    choose(page, "penguins")
    form = panel(page)
    form.get_by_label("query parameters (GET)").check()
    form.get_by_role("button", name="example 1").click()
    expect(form.locator("#penguins-predict-0-island")).to_have_value('"Torgersen"')
    expect(form.locator("#penguins-predict-0-body_mass_g-slider")).to_have_attribute("max", "9000")
    form.get_by_role("button", name="Send").click()
    expect(page.locator(".rendered .bars li").first).to_have_attribute("data-label", "Adelie")
    shot = screenshot(page, "penguins-query")
    bar = region(shot, page.locator(".rendered .bars li").first.locator(".track"))
    assert colour_share(bar, BAR) > 0.5
    page.get_by_role("tab", name="curl").click()
    curl = page.locator(".answer pre.curl")
    expect(curl).to_contain_text("/models/penguins/predict?island=Torgersen&bill_length_mm=39.1")

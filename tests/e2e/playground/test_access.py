"""Built to last: API keys, accessibility (axe-core, keyboard), a phone-width screen."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from .conftest import Stack, choose, open_playground, panel
from .screens import screenshot

PHONE = {"width": 375, "height": 812}


def test_without_a_key_the_page_says_one_is_needed(browser: Browser, stack: Stack) -> None:
    page = browser.new_context().new_page()
    page.goto(stack.url + "/")
    expect(page.locator("#key-note")).to_contain_text("This gateway needs an API key")
    expect(page.locator("#fleet-status")).to_contain_text("Enter an API key")
    expect(page.locator("#versions tbody tr")).to_have_count(0)
    screenshot(page, "no-key")
    page.context.close()


@pytest.mark.parametrize(
    ("model", "operation", "answered"),
    [("iris", "predict", True), ("minilm", "answer", True), ("styles", "predict", False)],
)
def test_axe_finds_no_accessibility_violations(
    page: Page, model: str, operation: str, answered: bool
) -> None:
    """With an answer on show where the schema has an example to send (styles: its form)."""
    choose(page, model, operation)
    form = panel(page)
    if answered:
        form.get_by_role("button", name="example 1").click()
        form.get_by_role("button", name="Send").click()
        expect(page.locator(".answer [data-fact=status]")).to_contain_text("200")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_operation_tabs_work_from_the_keyboard(page: Page) -> None:
    choose(page, "minilm")
    tab = page.get_by_role("tab", name="predict", exact=True)
    tab.focus()
    page.keyboard.press("ArrowRight")
    answer = page.get_by_role("tab", name="answer", exact=True)
    expect(answer).to_be_focused()
    expect(answer).to_have_attribute("aria-selected", "true")
    expect(panel(page).locator("#minilm-answer-0-question")).to_be_visible()


def test_the_page_fits_a_phone_screen(browser: Browser, stack: Stack) -> None:
    page = open_playground(browser, stack, PHONE)
    choose(page, "iris")
    form = panel(page)
    form.get_by_role("button", name="example 1").click()
    form.get_by_role("button", name="Send").click()
    expect(page.locator(".rendered .bars li")).to_have_count(3)
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    for control in ("#model", "#iris-predict-0-petal_width", ".rendered .bars"):
        box = page.locator(control).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    screenshot(page, "phone-iris")
    page.context.close()


def test_the_page_loads_only_from_the_gateway(page: Page) -> None:
    for model, operation in (("digits", "predict"), ("minilm", "answer"), ("iris", "predict")):
        choose(page, model, operation)
    page.traffic.check_local("/playground/app.js")  # type: ignore[attr-defined]

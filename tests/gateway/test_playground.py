"""The playground page in a real headless Chromium, against a real gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.tools import require_tool

from .harness import Gateway, GatewayFactory, Upstream, model_routes

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 90, "v2": 10}))


@pytest.fixture
def page(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(gateway.url + "/")
    # The model's example arrives last: typing or sending before it would race it.
    expect(opened.locator("#body")).not_to_have_value("")
    yield opened
    context.close()


def test_the_page_lists_the_models_and_their_versions(page: Page) -> None:
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("iris")
    expect(rows.nth(0)).to_contain_text("stable")
    expect(rows.nth(1)).to_contain_text("canary")
    expect(page.locator("#model")).to_have_value("iris")


def test_the_body_starts_from_the_models_example(page: Page) -> None:
    assert json.loads(page.locator("#body").input_value())["petal_width"] == 0.2


def test_a_pinned_request_shows_the_answer_and_the_answering_version(page: Page) -> None:
    expect(page.locator("#version option")).to_have_count(3)
    page.select_option("#version", "v2")
    page.click("#send")
    expect(page.locator("#answered-by")).to_have_text("v2")
    expect(page.locator("#status")).to_contain_text("200")
    expect(page.locator("#output")).to_contain_text('"species": "setosa"')
    expect(page.locator("#request-id")).not_to_have_text("\u2013")


def test_invalid_json_is_reported_without_sending(page: Page) -> None:
    page.fill("#body", "{not json")
    page.click("#send")
    expect(page.locator("#output")).to_contain_text("The body is not valid JSON")
    expect(page.locator("#status")).to_have_text("\u2013")


def test_an_error_answer_is_shown_with_its_status(
    page: Page, upstreams: dict[str, Upstream]
) -> None:
    for upstream in upstreams.values():
        upstream.control(status=500)
    page.click("#send")
    expect(page.locator("#status")).to_contain_text("500")
    expect(page.locator("#output")).to_contain_text("told to fail")
    expect(page.locator("#output")).to_have_class("error")

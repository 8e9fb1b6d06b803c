"""The playground page in a real headless Chromium, against a real gateway and the
steerable stand-in upstreams: what only a stand-in can do (slow, failing, plain-text
answers). The flows with the real models are in tests/e2e/playground/."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .harness import Gateway, GatewayFactory, Upstream, model_routes


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 90, "v2": 10}))


@pytest.fixture
def page(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(gateway.url + "/")
    # The form is built from the model's metadata, which arrives after the model list.
    expect(opened.locator("#iris-predict-0-petal_width")).to_have_value("0.2")
    yield opened
    context.close()


def send(page: Page) -> None:
    page.get_by_role("button", name="Send").click()


def test_the_page_lists_the_models_and_their_versions(page: Page) -> None:
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("iris")
    expect(rows.nth(0)).to_contain_text("stable")
    expect(rows.nth(1)).to_contain_text("canary")
    expect(page.locator("#model")).to_have_value("iris")


def test_a_pinned_request_shows_the_answer_and_the_answering_version(page: Page) -> None:
    page.select_option("#iris-predict-version", "v2")
    send(page)
    expect(page.locator(".answer [data-fact='answered by']")).to_have_text("v2")
    expect(page.locator(".answer [data-fact=status]")).to_contain_text("200")
    expect(page.locator(".rendered [data-name=species]")).to_contain_text("setosa")
    expect(page.locator(".answer [data-fact='request id']")).not_to_have_text("\u2013")


def test_a_slow_answer_shows_progress_until_it_arrives(
    page: Page, upstreams: dict[str, Upstream]
) -> None:
    for upstream in upstreams.values():
        upstream.control(delay=1.5)
    send(page)
    progress = page.locator(".progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("waiting")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    expect(page.locator(".answer [data-fact=status]")).to_contain_text("200")
    expect(progress).to_be_hidden()


def test_a_slow_request_can_be_cancelled(page: Page, upstreams: dict[str, Upstream]) -> None:
    for upstream in upstreams.values():
        upstream.control(delay=4)
    send(page)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".rendered")).to_contain_text("Cancelled")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_an_error_answer_is_shown_with_its_status_and_message(
    page: Page, upstreams: dict[str, Upstream]
) -> None:
    for upstream in upstreams.values():
        upstream.control(status=500)
    send(page)
    expect(page.locator(".answer [data-fact=status]")).to_contain_text("500")
    expect(page.locator(".rendered .error")).to_contain_text("told to fail")
    expect(page.locator(".answer")).to_have_class("answer failed")


def test_a_plain_text_error_is_shown_as_text(page: Page, upstreams: dict[str, Upstream]) -> None:
    for upstream in upstreams.values():
        upstream.control(status=503, plain_errors=True)
    send(page)
    expect(page.locator(".answer [data-fact=status]")).to_contain_text("503")
    expect(page.locator(".rendered .error")).to_be_visible()


def test_pages_may_load_from_the_gateway_only(gateway: Gateway) -> None:
    for path in ("/", "/docs", "/redoc"):
        answer = httpx.get(gateway.url + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"].startswith("default-src 'self';"), path
    assert "content-security-policy" not in httpx.get(gateway.url + "/models", timeout=10).headers

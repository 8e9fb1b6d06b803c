"""The API docs render offline: every service's and the gateway's `/docs` (Swagger UI)
and `/redoc` load nothing from outside 127.0.0.1 and show every operation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Stack, Traffic, record_traffic
from .screens import screenshot

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def doc_roots(stack: Stack) -> list[tuple[str, str]]:
    """(name, base url) of the gateway and of every version `make run` serves."""
    models = stack.get("/models").json()["models"]
    services = [(f"{m['name']}-{v['version']}", v["url"]) for m in models for v in m["versions"]]
    return [("gateway", stack.url), *services]


def operations(base: str) -> list[tuple[str, int]]:
    """Each operation's summary, and under how many tags (Swagger UI shows it under each)."""
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return [
        (op.get("summary") or op["operationId"], max(1, len(op.get("tags", []))))
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS
    ]


@pytest.fixture
def recorded(browser: Browser) -> Iterator[tuple[Page, Traffic]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page, record_traffic(page)
    context.close()


def swagger_ui_shows(page: Page, operations: list[tuple[str, int]]) -> None:
    expect(page.locator(".opblock")).to_have_count(sum(tags for _, tags in operations))
    expect(page.locator(".opblock-summary-path").first).to_be_visible()


def redoc_shows(page: Page, operations: list[tuple[str, int]]) -> None:
    expect(page.locator("h2", has_text=operations[0][0]).first).to_be_visible()
    for summary, _ in operations:
        expect(page.get_by_text(summary, exact=True).first).to_be_attached()


VIEWS = {
    "docs": (swagger_ui_shows, "/swagger-ui-bundle.js"),
    "redoc": (redoc_shows, "/redoc.standalone.js"),
}


@pytest.mark.parametrize("view", VIEWS)
def test_every_docs_page_renders_every_operation_from_local_files(
    stack: Stack, recorded: tuple[Page, Traffic], view: str
) -> None:
    page, traffic = recorded
    shows, asset = VIEWS[view]
    for name, base in doc_roots(stack):
        page.goto(f"{base}/{view}")
        shows(page, operations(base))
        screenshot(page, f"{view}-{name}", full_page=False)  # ReDoc pages run to 9000 px
    traffic.check_local(asset)

"""One `modelfleet up` stack (the shipped values file, every model) with API keys on,
and a Chromium page on its playground per test, the key already entered."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.processes import Server, all_ready, launch_stack, stop_stack, wait_until

ROOT = Path(__file__).resolve().parents[3]
API_KEY = "playground-test-key"
KEY_HEADERS = {"X-API-Key": API_KEY}
DESKTOP = {"width": 1280, "height": 900}
LOCAL = ("http://127.0.0.1:", "data:", "blob:")
# Real services on a shared 2-core machine: a first answer can take seconds.
expect.set_options(timeout=20_000)


@dataclass
class Stack:
    server: Server
    values: Path

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=KEY_HEADERS, timeout=30)

    def post(self, path: str, body: object = None, files: object = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, files=files, headers=KEY_HEADERS, timeout=60)


def _up(server: Server) -> bool:
    if server.process.poll() is not None:
        raise RuntimeError(f"the stack exited ({server.process.returncode}):\n{server.output()}")
    return "modelfleet is up" in server.output()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("playground-stack")
    values = folder / "values.yaml"
    shutil.copy(ROOT / "charts/modelfleet/values.yaml", values)
    keys = folder / "api-keys"
    keys.write_text(hashlib.sha256(API_KEY.encode()).hexdigest() + "\n")
    server, marker = launch_stack(
        folder, values, registry_root, env={"MODELFLEET_API_KEYS_FILE": str(keys)}
    )
    try:
        wait_until(lambda: _up(server), 240, "the stack")
        wait_until(lambda: all_ready(server.url, KEY_HEADERS), 60, "every version ready")
        yield Stack(server, values)
    finally:
        stop_stack(server, marker)


@dataclass
class Traffic:
    """What a page fetched (answers received) and what its policy blocked."""

    loaded: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    other_failures: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        return [url for url in self.loaded if not url.startswith(LOCAL)]

    def check_local(self, asset: str) -> None:
        assert not self.outside(), f"loaded from outside 127.0.0.1: {self.outside()}"
        assert not self.other_failures, self.other_failures
        assert any(url.endswith(asset) for url in self.loaded), f"{asset} never loaded"


def record_traffic(page: Page) -> Traffic:
    """Record from now on what `page` loads and what its policy blocks."""
    traffic = Traffic()
    page.on("response", lambda response: traffic.loaded.append(response.url))

    def failed(request: Request) -> None:
        # The pages' Content-Security-Policy stops ReDoc's footer logo (a CDN URL).
        csp = request.failure == "csp" and not request.url.startswith(LOCAL)
        (traffic.blocked if csp else traffic.other_failures).append(request.url)

    page.on("requestfailed", failed)
    return traffic


def open_playground(browser: Browser, stack: Stack, viewport: dict[str, int] = DESKTOP) -> Page:
    """A fresh page with the API key typed in, once the model list has arrived.

    Script errors are collected in `page.script_errors`, what it loads in `page.traffic`
    (the fixture asserts no errors and nothing loaded from outside 127.0.0.1)."""
    page = browser.new_context(viewport=viewport).new_page()
    page.traffic = record_traffic(page)  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # Chromium logs every 4xx/5xx answer as a console error; tests check statuses themselves.
    page.script_errors = errors  # type: ignore[attr-defined]
    page.goto(stack.url + "/")
    expect(page.locator("#key-note")).to_contain_text("needs an API key")
    page.fill("#api-key", API_KEY)
    page.locator("#api-key").press("Tab")  # leaving the field applies the key
    expect(page.locator("#versions tbody tr").first).to_be_visible()
    return page


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    opened = open_playground(browser, stack)
    yield opened
    opened.context.close()
    errors = [e for e in opened.script_errors if not e.startswith("Failed to load resource")]  # type: ignore[attr-defined]
    assert not errors, f"the page's script failed: {errors}"
    assert not opened.traffic.outside(), opened.traffic.outside()  # type: ignore[attr-defined]


def choose(page: Page, model: str, operation: str = "predict") -> None:
    """Pick a model and one of its operation tabs; wait for that operation's form."""
    page.select_option("#model", model)
    expect(page.locator("#model-title")).to_contain_text(model)
    page.get_by_role("tab", name=operation, exact=True).click()
    expect(panel(page).locator("form")).to_be_visible()


def panel(page: Page):  # type: ignore[no-untyped-def]
    """The operation tab panel on show."""
    return page.locator("#operation > [role=tabpanel]:not([hidden])")


DROP = """([name, b64]) => {
  const transfer = new DataTransfer();
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  return transfer;
}"""


def drop_file(area: Locator, name: str, payload: bytes) -> None:
    """Drag a file onto `area` and drop it, as a person does from a file manager."""
    transfer = area.page.evaluate_handle(DROP, [name, base64.b64encode(payload).decode()])
    area.dispatch_event("dragover", {"dataTransfer": transfer})
    area.dispatch_event("drop", {"dataTransfer": transfer})

"""Errors at their field, canary compare, the curl command and the self-refreshing
fleet table, in Chromium against the real stack."""

from __future__ import annotations

import json
import shlex
import subprocess

import yaml
from playwright.sync_api import Page, expect

from .conftest import Stack, choose, drop_file, panel
from .screens import colour_share, region, screenshot

ERROR = "#b00020"
DIFFERS = "#fef3c7"


def test_a_422_is_shown_next_to_the_field_it_names(page: Page) -> None:
    choose(page, "iris")
    form = panel(page)
    form.get_by_role("button", name="example 1").click()
    form.locator("#iris-predict-0-petal_width").fill("50")  # the schema says le=5
    form.get_by_role("button", name="Send").click()
    field = form.locator("[data-field=petal_width]")
    expect(field.locator(".field-error")).to_contain_text("less than or equal to 5")
    expect(field.locator("input[type=number]")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("[data-field=sepal_length] .field-error")).to_be_hidden()
    expect(page.locator(".answer [data-fact=status]")).to_contain_text("422")
    expect(page.locator(".rendered .error")).to_contain_text("petal_width")

    shot = screenshot(page, "iris-422")
    assert colour_share(region(shot, field.locator(".field-error")), ERROR) > 0.02


def test_an_upload_over_the_body_limit_is_refused_before_sending(page: Page) -> None:
    choose(page, "digits")
    form = panel(page)
    limit = 8 * 1024 * 1024  # digits' maxBodyBytes in the values file
    drop_file(form.locator(".drop"), "huge.png", bytes(limit + 1))
    error = form.locator("[data-field=file] .field-error")
    expect(error).to_contain_text("a request may carry at most 8.0 MB")
    form.get_by_role("button", name="Send").click()
    expect(error).to_contain_text("over the 8.0 MB limit")
    expect(page.locator(".answer [data-fact=status]")).to_have_count(0)  # nothing was sent
    screenshot(page, "digits-too-large")


def test_canary_compare_shows_both_versions_and_what_differs(page: Page) -> None:
    choose(page, "iris")
    form = panel(page)
    form.get_by_role("button", name="example 2").click()
    form.locator("summary", has_text="Canary compare").click()
    expect(form.locator("#iris-predict-compare-0")).to_have_value("v1")
    expect(form.locator("#iris-predict-compare-1")).to_have_value("v2")
    form.get_by_role("button", name="Compare A and B").click()
    sides = form.locator(".comparison .side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0).locator("h4")).to_contain_text("v1 · 200 ·")
    expect(sides.nth(1).locator("h4")).to_contain_text("v2 · 200 ·")
    expect(sides.nth(0).locator("h4")).to_contain_text(" ms")
    for side in (sides.nth(0), sides.nth(1)):
        expect(side.locator(".bars li")).to_have_count(3)
    # A logistic regression and a boosted ensemble never give equal probabilities.
    differing = form.locator(".comparison table.diff tbody tr.differs")
    expect(differing.filter(has_text="probabilities.virginica")).to_have_count(1)
    expect(form.locator(".comparison table.diff caption")).to_contain_text("values differ")

    shot = screenshot(page, "iris-compare")
    assert colour_share(region(shot, differing.first), DIFFERS) > 0.3


def test_the_curl_command_repeats_the_request_with_the_api_key(page: Page) -> None:
    choose(page, "iris")
    form = panel(page)
    form.get_by_role("button", name="example 2").click()
    form.locator("#iris-predict-version").select_option("v2")
    form.get_by_role("button", name="Send").click()
    expect(page.locator(".answer [data-fact='answered by']")).to_have_text("v2")
    page.get_by_role("tab", name="curl").click()
    command = page.locator(".answer pre.curl").inner_text()
    assert "X-API-Key: playground-test-key" in command and "X-Model-Version: v2" in command
    screenshot(page, "iris-curl")
    shown = json.loads(page.locator(".answer pre.raw").text_content() or "")
    again = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and again.stdout, (command, again)
    assert json.loads(again.stdout) == shown


def test_the_fleet_table_refreshes_itself(page: Page, stack: Stack) -> None:
    weight = page.locator("#versions tbody tr", has_text="canary").locator("td").nth(3)
    expect(weight).to_have_text("10")
    original = stack.values.read_text()
    values = yaml.safe_load(original)
    values["models"]["iris"]["versions"]["v1"]["weight"] = 70
    values["models"]["iris"]["versions"]["v2"]["weight"] = 30
    try:
        stack.values.write_text(yaml.safe_dump(values, sort_keys=False))
        expect(weight).to_have_text("30", timeout=30_000)  # no reload, no click
        screenshot(page, "fleet-refreshed")
    finally:
        stack.values.write_text(original)
    expect(weight).to_have_text("10", timeout=30_000)

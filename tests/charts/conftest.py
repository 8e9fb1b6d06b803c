"""Fixtures for the chart tests: one built copy of the charts per session."""

from __future__ import annotations

import copy

import pytest

from tests.charts.helm import Helm, Manifest, RenderScenario, build_charts
from tests.charts.scenarios import SCENARIOS
from tests.tools import require_tool


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Real helm over a private, dependency-built copy of charts/."""
    binary = require_tool("helm")
    return Helm(binary, build_charts(binary, tmp_path_factory.mktemp("helm")))


@pytest.fixture(scope="session")
def render_scenario(helm: Helm) -> RenderScenario:
    """The umbrella chart rendered for a named scenario (rendered once, copied per call)."""
    cache: dict[str, list[Manifest]] = {}

    def render(name: str) -> list[Manifest]:
        if name not in cache:
            case = SCENARIOS[name]
            cache[name] = helm.template(values=case.values, api_versions=case.api_versions)
        return copy.deepcopy(cache[name])

    return render

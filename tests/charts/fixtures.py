"""Fixtures for the chart and k8s/ tests: one built copy of the charts per session.

The conftest.py of tests/charts and tests/k8s import them.
"""

from __future__ import annotations

import copy

import pytest

from tests.charts.helm import Helm, Manifest, RenderScenario, build_charts
from tests.charts.scenarios import SCENARIOS
from tests.tools import require_tool

__all__ = ["helm", "render_scenario"]


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

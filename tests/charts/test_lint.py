"""`helm lint --strict` passes for every chart, and for the umbrella in every scenario."""

from __future__ import annotations

import pytest

from tests.charts.helm import CHARTS, Helm
from tests.charts.scenarios import SCENARIOS


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_lints_strictly_with_its_defaults(helm: Helm, chart: str) -> None:
    assert "0 chart(s) failed" in helm.lint(chart)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_umbrella_lints_strictly_in_each_scenario(helm: Helm, scenario: str) -> None:
    assert "0 chart(s) failed" in helm.lint("modelfleet", SCENARIOS[scenario].values)

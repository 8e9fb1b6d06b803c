"""Each chart's README is what charts/readme.py generates from its values file."""

from __future__ import annotations

import pytest

from charts.readme import CHARTS, CHARTS_DIR, render_readme


@pytest.mark.parametrize("chart", CHARTS)
def test_the_committed_readme_is_up_to_date(chart: str) -> None:
    committed = (CHARTS_DIR / chart / "README.md").read_text()
    assert committed == render_readme(chart), "stale chart README: run `make chart-docs`"


def test_the_parameter_table_shows_leaf_defaults_and_escapes_pipes() -> None:
    readme = render_readme("gateway")
    assert (
        '| `dashboards.labels` | Labels the Grafana sidecar selects on | `{"grafana_dashboard": "1"}` |'
        in readme
    )
    assert "| `autoscaling.maxReplicas` | Most gateway pods | `10` |" in readme
    assert "### API keys" in readme

"""Chart test fixtures (defined in tests/charts/fixtures.py)."""

from tests.charts.fixtures import helm, render_scenario

__all__ = ["helm", "render_scenario"]

"""Read the committed Grafana dashboards and turn panel targets into plain PromQL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "charts" / "gateway" / "files" / "dashboards"
# What Grafana puts in place of the variables when every value is selected.
VARIABLES = {"namespace": ".*", "fleet": ".*", "model": ".*", "version": ".*"}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref: str
    expr: str

    def promql(self, rate_interval: str = "15s") -> str:
        """The expression as Grafana sends it, with "All" chosen for every variable."""
        expr = self.expr.replace("$__rate_interval", rate_interval)
        return re.sub(r"\$(\w+)", lambda m: VARIABLES[m.group(1)], expr)


def dashboards() -> dict[str, dict[str, Any]]:
    """File stem -> parsed dashboard, for every committed dashboard."""
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))
    }


def panel_queries() -> list[PanelQuery]:
    return [
        PanelQuery(name, panel["title"], target["refId"], target["expr"])
        for name, board in dashboards().items()
        for panel in board["panels"]
        for target in panel["targets"]
    ]

"""prometheus-adapter serves exactly the custom metric the charts' HPAs ask for."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.charts.helm import ROOT, RenderScenario, by_kind
from tests.tools import require_tool

VALUES = yaml.safe_load((ROOT / "k8s" / "prometheus-adapter" / "values.yaml").read_text())
RULE = VALUES["rules"]["custom"][0]


def hpa_metric_names(render_scenario: RenderScenario) -> set[str]:
    hpas = by_kind(render_scenario("custom-metric-hpa"), "HorizontalPodAutoscaler").values()
    return {
        m["pods"]["metric"]["name"]
        for h in hpas
        for m in h["spec"]["metrics"]
        if m["type"] == "Pods"
    }


def test_the_adapter_exposes_the_metric_the_hpas_use(render_scenario: RenderScenario) -> None:
    exposed = RULE["name"]["as"]
    assert hpa_metric_names(render_scenario) == {exposed}
    assert re.fullmatch(RULE["name"]["matches"], exposed)
    assert RULE["seriesQuery"].startswith(f"{exposed}{{")
    assert set(RULE["resources"]["overrides"]) == {"namespace", "pod"}


def test_the_adapter_query_is_valid_promql(tmp_path: Path) -> None:
    """The metrics query, expanded as the adapter does for one pod, passes promtool."""
    promtool = require_tool("promtool")
    query = (
        RULE["metricsQuery"]
        .replace("<<.Series>>", RULE["name"]["as"])
        .replace("<<.LabelMatchers>>", 'namespace="modelfleet",pod="iris-v1-abc"')
        .replace("<<.GroupBy>>", "pod")
    )
    rules = {"groups": [{"name": "adapter", "rules": [{"record": "adapter:query", "expr": query}]}]}
    path = tmp_path / "adapter.yaml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""prometheus-adapter serves exactly the custom metrics the charts' HPAs ask for."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.charts.helm import ROOT, Helm, by_kind
from tests.tools import require_tool

VALUES = yaml.safe_load((ROOT / "k8s" / "prometheus-adapter" / "values.yaml").read_text())
RULES = VALUES["rules"]["custom"]
# Custom-metric HPAs for every model version and the gateway.
INFLIGHT = {"enabled": True, "averageValue": 4}
CUSTOM = {
    "modelDefaults": {"autoscaling": {"inflightRequests": INFLIGHT}},
    "gateway": {"autoscaling": {"inflightRequests": INFLIGHT}},
}


def hpa_metric_names(helm: Helm) -> set[str]:
    hpas = by_kind(helm.template(values=CUSTOM), "HorizontalPodAutoscaler").values()
    return {
        m["pods"]["metric"]["name"]
        for h in hpas
        for m in h["spec"]["metrics"]
        if m["type"] == "Pods"
    }


def test_the_adapter_exposes_every_metric_the_hpas_use(helm: Helm) -> None:
    names = hpa_metric_names(helm)
    assert names == {"modelfleet_inflight_requests", "modelfleet_gateway_inflight_requests"}
    assert {rule["name"]["as"] for rule in RULES} == names
    for rule in RULES:
        exposed = rule["name"]["as"]
        assert re.fullmatch(rule["name"]["matches"], exposed)
        assert rule["seriesQuery"].startswith(f"{exposed}{{")
        assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}


@pytest.mark.parametrize("rule", RULES, ids=[r["name"]["as"] for r in RULES])
def test_the_adapter_query_is_valid_promql(tmp_path: Path, rule: dict) -> None:
    """The metrics query, expanded as the adapter does for one pod, passes promtool."""
    promtool = require_tool("promtool")
    query = (
        rule["metricsQuery"]
        .replace("<<.Series>>", rule["name"]["as"])
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

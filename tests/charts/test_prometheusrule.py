"""The PrometheusRule the gateway chart renders is a valid rule file for Prometheus.

Its `spec.groups` go through the real `promtool check rules`, so a broken
expression or a duplicate rule never reaches a cluster.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.charts.helm import RenderScenario, by_kind
from tests.tools import require_tool


def test_rendered_rule_groups_pass_promtool(
    render_scenario: RenderScenario, tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    rule = by_kind(render_scenario("monitoring-crds"), "PrometheusRule")["modelfleet-gateway"]
    assert rule["spec"]["groups"], "no rule groups rendered"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout

"""The Prometheus rule file is valid and its alerts fire exactly when they should.

`promtool check rules` parses every expression; `promtool test rules` runs the
alert unit tests in `rules_test.yaml` (a firing and a quiet case per alert).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "gateway" / "files" / "rules" / "modelfleet-rules.yaml"
RULE_TESTS = Path(__file__).with_name("rules_test.yaml")


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = require_tool("promtool")
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, check=False
    )


def alert_names(path: Path) -> set[str]:
    groups = yaml.safe_load(path.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def test_rule_file_passes_promtool_check() -> None:
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_unit_tests_pass() -> None:
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    checks = [check for case in cases for check in case.get("alert_rule_test", [])]
    firing = {check["alertname"] for check in checks if check["exp_alerts"]}
    quiet = {check["alertname"] for check in checks if not check["exp_alerts"]}
    assert firing == alert_names(RULES)
    assert quiet == alert_names(RULES)


def test_every_alert_has_severity_summary_and_runbook() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    for alert in alerts:
        assert alert["labels"]["severity"] in {"warning", "critical"}, alert["alert"]
        assert alert["annotations"]["summary"].strip(), alert["alert"]
        # A runbook names numbered steps, not just a restatement of the summary.
        assert "1. " in alert["annotations"]["description"], alert["alert"]

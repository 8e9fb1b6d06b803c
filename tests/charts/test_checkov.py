"""checkov, offline, finds nothing wrong with the charts beyond the listed skips.

Two runs: `--framework helm` over the chart sources (checkov renders them with
the real helm) and `--framework kubernetes` over the umbrella rendered for every
scenario. Every failed check must match an entry of charts/checkov-skips.yaml,
each of which carries its reason, and every entry must still match something.
"""

from __future__ import annotations

import json
import os
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from tests.charts.helm import ROOT, Helm
from tests.charts.scenarios import SCENARIOS
from tests.tools import require_tool

SKIPS = yaml.safe_load((ROOT / "charts" / "checkov-skips.yaml").read_text())["skips"]
APPLICATION_CHARTS = ("model", "gateway", "modelfleet")
FRAMEWORKS = ["helm", "kubernetes"]


def checkov(
    framework: str, directories: list[Path], helm_binary: str, out: Path
) -> list[tuple[str, str]]:
    """(check id, resource id) of every failed check."""
    command = [require_tool("checkov"), "--framework", framework, "--skip-download", "--quiet"]
    command += ["-o", "json", "--output-file-path", str(out)]
    for directory in directories:
        command += ["-d", str(directory)]
    # checkov's helm runner calls `helm` from PATH: make it ours.
    path = f"{Path(helm_binary).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": path},
    )
    report_file = out / "results_json.json"
    assert report_file.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    reports = json.loads(report_file.read_text())
    reports = reports if isinstance(reports, list) else [reports]
    assert sum(r["summary"]["resource_count"] for r in reports) > 0, "checkov scanned nothing"
    return [(f["check_id"], f["resource"]) for r in reports for f in r["results"]["failed_checks"]]


def skip_for(framework: str, check: str, resource: str) -> dict[str, Any] | None:
    for skip in SKIPS:
        applies = skip["check"] == check and framework in skip.get("frameworks", FRAMEWORKS)
        if applies and any(fnmatch(resource, pattern) for pattern in skip["resources"]):
            return skip
    return None


def assert_only_listed_skips(framework: str, failures: list[tuple[str, str]]) -> None:
    unexpected = sorted(f for f in set(failures) if skip_for(framework, *f) is None)
    assert unexpected == [], f"checkov ({framework}) failures not in charts/checkov-skips.yaml"
    used = {skip_for(framework, *f)["check"] for f in failures}  # type: ignore[index]
    listed = {s["check"] for s in SKIPS if framework in s.get("frameworks", FRAMEWORKS)}
    assert used == listed, (
        "a skip matches nothing any more: remove it from charts/checkov-skips.yaml"
    )


def test_every_skip_has_a_reason() -> None:
    assert all(len(skip["reason"].split()) >= 5 for skip in SKIPS)
    assert len({(s["check"], tuple(s.get("frameworks", []))) for s in SKIPS}) == len(SKIPS)


def test_checkov_helm_framework_passes_the_chart_sources(helm: Helm, tmp_path: Path) -> None:
    charts = [helm.chart(name) for name in APPLICATION_CHARTS]
    assert_only_listed_skips("helm", checkov("helm", charts, helm.binary, tmp_path))


def test_checkov_kubernetes_framework_passes_every_rendered_scenario(
    helm: Helm, tmp_path: Path
) -> None:
    rendered = tmp_path / "rendered"
    rendered.mkdir()
    for name, case in SCENARIOS.items():
        text = helm.template_text(values=case.values, api_versions=case.api_versions)
        (rendered / f"{name}.yaml").write_text(text)
    assert_only_listed_skips("kubernetes", checkov("kubernetes", [rendered], helm.binary, tmp_path))

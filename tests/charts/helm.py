"""Render the charts with the real `helm` binary, offline.

The charts are copied to a temporary directory and their `file://` dependencies
built there, so tests never write into the source tree and parallel runs never
race on `charts/*/charts/`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CHARTS",
    "MONITORING_APIS",
    "NAMESPACE",
    "RELEASE",
    "ROOT",
    "Helm",
    "HelmError",
    "Manifest",
    "RenderScenario",
    "build_charts",
    "by_kind",
]

ROOT = Path(__file__).resolve().parents[2]
# Library first: each chart's dependencies are built before the charts that need them.
CHARTS = ("fleetlib", "model", "gateway", "modelfleet")
RELEASE = "modelfleet"
NAMESPACE = "modelfleet"
MONITORING_APIS = (
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
)

Manifest = dict[str, Any]
# A fixture: the umbrella chart rendered for a named scenario (tests/charts/scenarios.py).
RenderScenario = Callable[[str], list[Manifest]]


class HelmError(RuntimeError):
    """helm exited non-zero; the message is its stderr."""


def build_charts(helm: str, workdir: Path) -> Path:
    """Copy charts/ into `workdir` and build every chart's dependencies there."""
    charts = workdir / "charts"
    shutil.copytree(ROOT / "charts", charts, ignore=shutil.ignore_patterns("charts", "*.tgz"))
    for name in CHARTS:
        _run([helm, "dependency", "build", str(charts / name)])
    return charts


def _run(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise HelmError(done.stderr.strip())
    return done.stdout


@dataclass(frozen=True)
class Helm:
    binary: str
    charts: Path

    def chart(self, name: str) -> Path:
        return self.charts / name

    def update_dependencies(self, chart: str) -> None:
        """`helm dependency update`: rebuild a chart's `charts/` after its Chart.yaml changed."""
        _run([self.binary, "dependency", "update", str(self.chart(chart))])

    def values_file(self, values: dict[str, Any]) -> Path:
        """Write `values` to a file named by its content (stable across calls)."""
        text = yaml.safe_dump(values, sort_keys=True)
        path = self.charts.parent / f"values-{hashlib.sha256(text.encode()).hexdigest()[:16]}.yaml"
        path.write_text(text)
        return path

    def template_text(
        self,
        chart: str = "modelfleet",
        values: dict[str, Any] | None = None,
        *,
        api_versions: Iterable[str] = (),
        extra: Sequence[str] = (),
    ) -> str:
        """`helm template` output; raises HelmError with helm's message on failure."""
        command = [self.binary, "template", RELEASE, str(self.chart(chart)), "-n", NAMESPACE]
        if values:
            command += ["-f", str(self.values_file(values))]
        for api in api_versions:
            command += ["--api-versions", api]
        return _run([*command, *extra])

    def template(
        self,
        chart: str = "modelfleet",
        values: dict[str, Any] | None = None,
        *,
        api_versions: Iterable[str] = (),
    ) -> list[Manifest]:
        """The rendered objects (helm test hooks included), in helm's order."""
        text = self.template_text(chart, values, api_versions=api_versions)
        return [doc for doc in yaml.safe_load_all(text) if doc]

    def template_error(
        self, chart: str = "modelfleet", values: dict[str, Any] | None = None
    ) -> str:
        """helm's error message for values that must be rejected."""
        try:
            self.template_text(chart, values)
        except HelmError as exc:
            return str(exc)
        raise AssertionError(f"helm accepted values that must be rejected: {values}")

    def lint(self, chart: str, values: dict[str, Any] | None = None) -> str:
        command = [self.binary, "lint", "--strict", str(self.chart(chart))]
        if values:
            command += ["-f", str(self.values_file(values))]
        return _run(command)


def by_kind(manifests: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    """Objects of one kind, by name."""
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}

"""Fixtures for the k8s/ tests: kustomize over a built copy of the charts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.charts.fixtures import helm, render_scenario
from tests.charts.helm import ROOT, Helm, Manifest
from tests.tools import require_tool

__all__ = ["Kustomize", "helm", "k8s_copy", "kustomize", "render_scenario"]

Kustomize = Callable[[Path], list[Manifest]]


@pytest.fixture(scope="session")
def k8s_copy(helm: Helm) -> Path:
    """k8s/ copied beside the built charts, so the overlays' `../../../charts`
    resolves to charts whose dependencies are present."""
    copy = helm.charts.parent / "k8s"
    if not copy.exists():
        shutil.copytree(ROOT / "k8s", copy)
    return copy


@pytest.fixture(scope="session")
def kustomize(k8s_copy: Path) -> Kustomize:
    """Build a kustomization with kubectl's kustomize and Helm 3 (kustomize refuses Helm 4)."""
    kubectl, helm3 = require_tool("kubectl"), require_tool("helm3")

    def build(directory: Path) -> list[Manifest]:
        command = [kubectl, "kustomize", "--enable-helm", "--helm-command", helm3]
        command += ["--load-restrictor", "LoadRestrictionsNone", str(directory)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return build

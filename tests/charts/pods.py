"""Reach into rendered workloads: pod specs, containers and their env."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.charts.helm import Manifest

__all__ = ["env", "is_test_hook", "pod_specs"]


def is_test_hook(manifest: Manifest) -> bool:
    return manifest["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """(object, pod spec) for every Deployment and Pod."""
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            yield manifest, manifest["spec"]["template"]["spec"]
        elif manifest["kind"] == "Pod":
            yield manifest, manifest["spec"]


def env(container: dict[str, Any]) -> dict[str, str]:
    """Literal variables by name (downward-API ones are checked on their own)."""
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def field_refs(container: dict[str, Any]) -> dict[str, str]:
    """Downward-API variables: name -> fieldPath."""
    return {
        item["name"]: item["valueFrom"]["fieldRef"]["fieldPath"]
        for item in container.get("env", [])
        if "fieldRef" in item.get("valueFrom", {})
    }

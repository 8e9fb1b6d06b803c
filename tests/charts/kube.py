"""Strict validation of rendered objects against the Kubernetes OpenAPI schemas."""

from __future__ import annotations

import kubernetes_validate

from tests.charts.helm import Manifest

__all__ = ["CRD_GROUPS", "KUBERNETES_VERSIONS", "problems"]

# Oldest and newest Kubernetes the charts support (Chart.yaml kubeVersion >=1.30).
KUBERNETES_VERSIONS = ("1.30", "1.37")
# Groups served by CRDs, which have no bundled schema; their objects are checked
# by their own tests (promtool for PrometheusRule rule groups).
CRD_GROUPS = {"monitoring.coreos.com", "gateway.networking.k8s.io", "keda.sh"}


def problems(manifest: Manifest, version: str) -> list[str]:
    """What is wrong with one object for one Kubernetes version (nothing: [])."""
    where = f"{manifest['kind']}/{manifest['metadata']['name']}"
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        group = manifest["apiVersion"].rpartition("/")[0]
        return [] if group in CRD_GROUPS else [f"{where}: no schema for {manifest['apiVersion']}"]
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{where}: {path}: {exc.message.splitlines()[0]}"]
    return []

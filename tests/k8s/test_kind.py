"""The kind cluster of `make deploy` gives topology spread real zones to spread over."""

from __future__ import annotations

import yaml

from tests.charts.helm import ROOT, RenderScenario, by_kind

CLUSTER = yaml.safe_load((ROOT / "k8s" / "kind" / "cluster.yaml").read_text())


def test_workers_sit_in_distinct_zones_the_deployments_spread_over(
    render_scenario: RenderScenario,
) -> None:
    zones = [
        n["labels"]["topology.kubernetes.io/zone"]
        for n in CLUSTER["nodes"]
        if n["role"] == "worker"
    ]
    assert len(zones) == len(set(zones)) >= 2
    spec = by_kind(render_scenario("defaults"), "Deployment")["iris-v1"]["spec"]["template"]["spec"]
    keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}

"""Laptop and cluster run a model version with the same settings.

`make run` (services/cli/fleet/stack.py) and the chart both turn the values file
into MODELFLEET_* variables; apart from where a process listens and where its
files live, the two environments must be identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.cli.fleet.stack import ServiceSpec, service_environment
from tests.charts.helm import ROOT, RenderScenario, by_kind
from tests.charts.pods import env

VALUES = yaml.safe_load((ROOT / "charts" / "modelfleet" / "values.yaml").read_text())
# Where the process listens and where its files are: loopback ports and local
# paths on a laptop, 0.0.0.0:8080 and mounted volumes in a pod.
PLACE = {
    "MODELFLEET_SERVER__HOST",
    "MODELFLEET_SERVER__PORT",
    "MODELFLEET_REGISTRY",
    "MODELFLEET_METRICS_DIR",
}


def modelfleet_vars(variables: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in variables.items() if k.startswith("MODELFLEET_") and k not in PLACE}


@pytest.mark.parametrize("version", sorted(VALUES["models"]["iris"]["versions"]))
def test_the_chart_sets_what_make_run_sets(render_scenario: RenderScenario, version: str) -> None:
    deployment = by_kind(render_scenario("defaults"), "Deployment")[f"iris-{version}"]
    in_cluster = env(deployment["spec"]["template"]["spec"]["containers"][0])
    local = service_environment(VALUES, ServiceSpec("iris", version, 8101, 0), Path("registry"))
    assert modelfleet_vars(in_cluster) == modelfleet_vars(local)

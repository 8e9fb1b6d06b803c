"""The escape hatches users expect from a chart render where they expect them.

`extraEnvVars`, `podAnnotations`, `podLabels`, `affinity`, `nodeSelector`,
`tolerations`, `priorityClassName`, `extraVolumes`, `extraVolumeMounts` and any
resource name, at `modelDefaults`, per model and per version (each level
replacing the one above key by key), and on the gateway.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.charts.helm import Helm, RenderScenario, by_kind
from tests.charts.scenarios import GPU_NODES, POD_HATCHES

Pod = dict[str, Any]


@pytest.fixture(scope="module")
def pods(render_scenario: RenderScenario) -> dict[str, Pod]:
    deployments = by_kind(render_scenario("escape-hatches"), "Deployment")
    return {name: d["spec"]["template"] for name, d in deployments.items()}


def hatches(pod: Pod) -> dict[str, Any]:
    """What each hatch became in one pod template, keyed like the values."""
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    return {
        "extraEnvVars": [e for e in container["env"] if e["name"].startswith("OTEL_") and e["name"] != "OTEL_SERVICE_NAME"],
        "podAnnotations": pod["metadata"].get("annotations", {}),
        "podLabels": {k: v for k, v in pod["metadata"]["labels"].items() if k.startswith("example.com/")},
        "affinity": spec.get("affinity"),
        "nodeSelector": spec.get("nodeSelector"),
        "tolerations": spec.get("tolerations"),
        "priorityClassName": spec.get("priorityClassName"),
        "extraVolumes": [v for v in spec["volumes"] if v["name"] not in ("tmp", "routes", "registry")],
        "extraVolumeMounts": [m for m in container["volumeMounts"] if m["name"] not in ("tmp", "routes", "registry")],
    }  # fmt: skip


@pytest.mark.parametrize("deployment", ["iris-v1", "iris-v2", "digits-v1", "modelfleet-gateway"])
def test_every_hatch_renders_from_model_defaults_and_the_gateway_values(
    pods: dict[str, Pod], deployment: str
) -> None:
    assert hatches(pods[deployment]) == POD_HATCHES


def test_a_model_and_a_version_override_the_defaults_key_by_key(pods: dict[str, Pod]) -> None:
    minilm = hatches(pods["minilm-v1"])
    assert minilm["podLabels"] == {"example.com/team": "search"}  # the model's
    assert (minilm["affinity"], minilm["priorityClassName"]) == (GPU_NODES, "gpu-serving")  # v1's
    assert minilm["extraEnvVars"] == POD_HATCHES["extraEnvVars"]  # the defaults'


def test_any_resource_name_reaches_the_container(pods: dict[str, Pod]) -> None:
    iris = pods["iris-v1"]["spec"]["containers"][0]["resources"]
    assert iris["requests"]["ephemeral-storage"] == "1Gi"
    assert iris["limits"]["ephemeral-storage"] == "2Gi"
    minilm = pods["minilm-v1"]["spec"]["containers"][0]["resources"]
    assert minilm["limits"]["nvidia.com/gpu"] == 1


def test_an_extra_variable_the_chart_already_sets_is_refused(helm: Helm) -> None:
    values = {
        "modelDefaults": {"extraEnvVars": [{"name": "MODELFLEET_LOG_LEVEL", "value": "debug"}]}
    }
    message = helm.template_error(values=values)
    assert (
        "models.iris.versions.v1.extraEnvVars: MODELFLEET_LOG_LEVEL is set by the chart from its values"
        in message
    )


def test_an_extra_volume_named_like_the_charts_is_refused(helm: Helm) -> None:
    values = {"gateway": {"extraVolumes": [{"name": "routes", "emptyDir": {}}]}}
    message = helm.template_error(values=values)
    assert 'extraVolumes: the name "routes" is already used' in message


def test_a_misspelled_hatch_is_refused_by_name(helm: Helm) -> None:
    message = helm.template_error(values={"modelDefaults": {"extraEnv": []}})
    assert "additional properties 'extraEnv' not allowed" in message

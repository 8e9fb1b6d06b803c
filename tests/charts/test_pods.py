"""Every container is locked down, probed and sized, in every scenario.

Non-root numeric user, read-only root filesystem, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, resource requests, and (for the
long-running servers; helm test pods run once and exit) startup, readiness and
liveness probes. Shutdown is graceful: the grace period outlasts the preStop
sleep plus gunicorn's drain time.
"""

from __future__ import annotations

import pytest

from tests.charts.helm import Manifest, RenderScenario
from tests.charts.pods import env, field_refs, is_test_hook, pod_specs
from tests.charts.scenarios import SCENARIOS

MIN_UID = 10000


def pod_problems(manifest: Manifest, spec: dict) -> list[str]:
    where = f"{manifest['kind']}/{manifest['metadata']['name']}"
    pod = spec["securityContext"]
    found = []
    if pod.get("runAsNonRoot") is not True or pod.get("runAsUser", 0) < MIN_UID:
        found.append(f"{where}: pod may run as root or a low uid: {pod}")
    if pod.get("seccompProfile") != {"type": "RuntimeDefault"}:
        found.append(f"{where}: pod seccomp is not RuntimeDefault")
    if spec.get("automountServiceAccountToken") is not False:
        found.append(f"{where}: mounts a service account token it never uses")
    for container in spec["containers"]:
        found += [
            f"{where}/{container['name']}: {p}" for p in container_problems(container, manifest)
        ]
    return found


def container_problems(container: dict, manifest: Manifest) -> list[str]:
    context = container["securityContext"]
    expected = {
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    found = [
        f"securityContext.{k} is {context.get(k)!r}"
        for k, v in expected.items()
        if context.get(k) != v
    ]
    requests = container.get("resources", {}).get("requests", {})
    if not {"cpu", "memory"} <= requests.keys():
        found.append(f"resource requests incomplete: {requests}")
    if not is_test_hook(manifest):
        missing = {"startupProbe", "readinessProbe", "livenessProbe"} - container.keys()
        found += [f"no {probe}" for probe in sorted(missing)]
    return found


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_container_is_non_root_read_only_probed_and_sized(
    render_scenario: RenderScenario, scenario: str
) -> None:
    specs = list(pod_specs(render_scenario(scenario)))
    assert len(specs) >= 3
    assert [p for manifest, spec in specs for p in pod_problems(manifest, spec)] == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_grace_period_outlasts_prestop_and_gunicorn_drain(
    render_scenario: RenderScenario, scenario: str
) -> None:
    for manifest, spec in pod_specs(render_scenario(scenario)):
        if is_test_hook(manifest):
            continue
        container = spec["containers"][0]
        drain = int(env(container)["MODELFLEET_SERVER__GRACEFUL_TIMEOUT_SECONDS"])
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pre_stop >= 1
        assert spec["terminationGracePeriodSeconds"] > pre_stop + drain


def test_startup_probe_allows_the_whole_load_budget_before_liveness(
    render_scenario: RenderScenario,
) -> None:
    deployments = {
        m["metadata"]["name"]: s for m, s in pod_specs(render_scenario("several-models"))
    }
    probe = deployments["prod-digits-v1"]["containers"][0]["startupProbe"]
    assert probe["httpGet"]["path"] == "/readyz"
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 900


def test_probes_map_readiness_to_readyz_and_liveness_to_healthz(
    render_scenario: RenderScenario,
) -> None:
    for manifest, spec in pod_specs(render_scenario("defaults")):
        if is_test_hook(manifest):
            continue
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_only_tmp_is_writable(render_scenario: RenderScenario) -> None:
    for manifest, spec in pod_specs(render_scenario("pvc-registry")):
        if is_test_hook(manifest):
            continue
        mounts = spec["containers"][0]["volumeMounts"]
        writable = [m["mountPath"] for m in mounts if not m.get("readOnly")]
        assert writable == ["/tmp"], manifest["metadata"]["name"]
        tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_service_knows_its_pod_namespace_and_node_for_its_traces(
    render_scenario: RenderScenario, scenario: str
) -> None:
    for manifest, spec in pod_specs(render_scenario(scenario)):
        if is_test_hook(manifest):
            continue
        assert field_refs(spec["containers"][0]) == {
            "K8S_POD_NAME": "metadata.name",
            "K8S_NAMESPACE_NAME": "metadata.namespace",
            "K8S_NODE_NAME": "spec.nodeName",
        }, manifest["metadata"]["name"]

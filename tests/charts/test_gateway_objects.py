"""The gateway's objects: hot-reloadable routes, API keys, exposure, rules and dashboards."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.charts.helm import ROOT, Helm, RenderScenario, by_kind
from tests.charts.pods import env
from tests.charts.scenarios import API_KEY_SHA256

GATEWAY = "modelfleet-gateway"
DASHBOARDS = ROOT / "charts" / "gateway" / "files" / "dashboards"


def gateway_pod(render_scenario: RenderScenario, scenario: str) -> dict:
    return by_kind(render_scenario(scenario), "Deployment")[GATEWAY]["spec"]["template"]


def test_routes_are_mounted_as_a_directory_so_updates_reach_the_pod(
    render_scenario: RenderScenario,
) -> None:
    pod = gateway_pod(render_scenario, "defaults")
    container = pod["spec"]["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "routes")
    assert "subPath" not in mount
    assert env(container)["MODELFLEET_ROUTES_FILE"] == f"{mount['mountPath']}/routes.yaml"
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "routes")
    assert volume["configMap"]["name"] == f"{GATEWAY}-routes"
    assert f"{GATEWAY}-routes" in by_kind(render_scenario("defaults"), "ConfigMap")


def test_the_guards_holds_outlive_a_container_restart(render_scenario: RenderScenario) -> None:
    pod = gateway_pod(render_scenario, "defaults")
    container = pod["spec"]["containers"][0]
    held = Path(env(container)["MODELFLEET_GUARD_STATE_FILE"])
    mount = next(m for m in container["volumeMounts"] if held.is_relative_to(m["mountPath"]))
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    assert "emptyDir" in volume  # kept across restarts of the container, not of the pod


def test_the_gateway_pod_carries_no_checksum_that_would_restart_it_on_a_weight_change(
    render_scenario: RenderScenario,
) -> None:
    annotations = gateway_pod(render_scenario, "defaults")["metadata"].get("annotations", {})
    assert not [key for key in annotations if "checksum" in key]


def test_api_keys_are_digests_in_a_secret_mounted_for_the_gateway(
    render_scenario: RenderScenario,
) -> None:
    manifests = render_scenario("api-keys-and-exposure")
    secret = by_kind(manifests, "Secret")[f"{GATEWAY}-api-keys"]
    assert secret["stringData"]["api-keys"].split() == [API_KEY_SHA256, "#", "ci"]
    container = gateway_pod(render_scenario, "api-keys-and-exposure")["spec"]["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "api-keys")
    assert env(container)["MODELFLEET_API_KEYS_FILE"] == f"{mount['mountPath']}/api-keys"
    assert "Secret" not in {m["kind"] for m in render_scenario("defaults")}


def test_ingress_and_httproute_send_everything_to_the_gateway_service(
    render_scenario: RenderScenario,
) -> None:
    manifests = render_scenario("api-keys-and-exposure")
    ingress = by_kind(manifests, "Ingress")[GATEWAY]["spec"]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": GATEWAY, "port": {"name": "http"}}
    assert ingress["tls"] == [{"hosts": ["modelfleet.example.com"], "secretName": "modelfleet-tls"}]
    route = by_kind(manifests, "HTTPRoute")[GATEWAY]["spec"]
    assert route["rules"][0]["backendRefs"] == [{"name": GATEWAY, "port": 8000}]
    assert not {"Ingress", "HTTPRoute"} & {m["kind"] for m in render_scenario("defaults")}


def test_metrics_never_leave_the_cluster_through_the_public_service_or_routes(
    helm: Helm, render_scenario: RenderScenario
) -> None:
    """The Ingress and HTTPRoute reach the http port, where the gateway refuses
    /metrics; the metrics port sits on a ClusterIP Service of its own."""
    manifests = render_scenario("api-keys-and-exposure")
    public = by_kind(manifests, "Service")[GATEWAY]["spec"]
    assert [p["name"] for p in public["ports"]] == ["http"]
    container = gateway_pod(render_scenario, "api-keys-and-exposure")["spec"]["containers"][0]
    assert env(container)["MODELFLEET_SERVER__METRICS_PORT"] == "9100"
    exposed = helm.template(values={"gateway": {"service": {"type": "LoadBalancer"}}})
    services = by_kind(exposed, "Service")
    assert services[GATEWAY]["spec"]["type"] == "LoadBalancer"
    assert services[f"{GATEWAY}-metrics"]["spec"]["type"] == "ClusterIP"


def test_an_nginx_ingress_lets_through_the_bodies_the_gateway_takes(
    helm: Helm, render_scenario: RenderScenario
) -> None:
    """nginx's default 1 MiB would answer digits' 8 MiB uploads with 413 at the edge."""
    ingress = by_kind(render_scenario("api-keys-and-exposure"), "Ingress")[GATEWAY]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "8388608"
    chosen = {"nginx.ingress.kubernetes.io/proxy-body-size": "16m"}
    values = {
        "gateway": {"ingress": {"enabled": True, "className": "nginx", "annotations": chosen}}
    }
    ingress = by_kind(helm.template(values=values), "Ingress")[GATEWAY]
    assert ingress["metadata"]["annotations"] == chosen  # the user's own wins
    other = {"gateway": {"ingress": {"enabled": True, "className": "traefik"}}}
    assert "annotations" not in by_kind(helm.template(values=other), "Ingress")[GATEWAY]["metadata"]


def test_each_dashboard_file_becomes_a_configmap_for_the_grafana_sidecar(
    render_scenario: RenderScenario,
) -> None:
    maps = [
        m for m in by_kind(render_scenario("defaults"), "ConfigMap").values()
        if m["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]  # fmt: skip
    files = sorted(DASHBOARDS.glob("*.json"))
    assert files and len(maps) == len(files)
    rendered = {name: json.loads(text) for m in maps for name, text in m["data"].items()}
    assert rendered == {f.name: json.loads(f.read_text()) for f in files}


def test_the_prometheusrule_carries_the_rule_file_and_needs_the_crd(
    render_scenario: RenderScenario,
) -> None:
    assert "PrometheusRule" not in {m["kind"] for m in render_scenario("defaults")}
    rule = by_kind(render_scenario("monitoring-crds"), "PrometheusRule")[GATEWAY]
    source = yaml.safe_load((ROOT / "charts/gateway/files/rules/modelfleet-rules.yaml").read_text())
    assert rule["spec"] == source

"""The objects of each model version: names, labels, selectors, env, scaling, registry.

It should name a version's Deployment `<model>-<version>`, select it by
immutable labels only, configure the runtime through MODELFLEET_* variables,
and leave `replicas` to the HPA when autoscaling is on.
"""

from __future__ import annotations

from tests.charts.helm import Manifest, RenderScenario, by_kind
from tests.charts.pods import env

IMMUTABLE_SELECTOR_KEYS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "modelfleet.io/model",
    "modelfleet.io/version",
}


def model_deployments(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {
        name: m
        for name, m in by_kind(manifests, "Deployment").items()
        if "modelfleet.io/version" in m["metadata"]["labels"]
    }


def test_each_version_gets_a_deployment_service_hpa_and_pdb_named_model_version(
    render_scenario: RenderScenario,
) -> None:
    manifests = render_scenario("defaults")
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert {"iris-v1", "iris-v2"} <= by_kind(manifests, kind).keys(), kind


def test_labels_carry_model_and_version_and_selectors_only_immutable_keys(
    render_scenario: RenderScenario,
) -> None:
    for manifest in render_scenario("several-models"):
        if manifest["kind"] == "ServiceMonitor":
            continue  # selects Services, by a label of the Service's own; never immutable
        selector = manifest.get("spec", {}).get("selector", {})
        selector = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
        assert set(selector) <= IMMUTABLE_SELECTOR_KEYS, manifest["metadata"]["name"]
    deployment = model_deployments(render_scenario("several-models"))["prod-digits-v1"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["modelfleet.io/model"] == "digits" and labels["modelfleet.io/version"] == "v1"
    assert labels["app.kubernetes.io/part-of"] == "modelfleet"


def test_pods_are_labelled_with_their_image_not_with_the_chart(
    render_scenario: RenderScenario,
) -> None:
    """A chart version is no property of a pod; the image it runs is."""
    deployments = by_kind(render_scenario("canary-with-shadow"), "Deployment")
    for name, tag in (("iris-v1", "0.1.0"), ("iris-v2", "0.2.0"), ("iris-v3", "0.3.0")):
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/version"] == tag, name
        assert deployments[name]["metadata"]["labels"]["app.kubernetes.io/version"] == tag
    for deployment in deployments.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert not {"helm.sh/chart", "app.kubernetes.io/managed-by"} & labels.keys()
        assert deployment["metadata"]["labels"]["helm.sh/chart"]


def test_runtime_settings_come_from_the_values_file(render_scenario: RenderScenario) -> None:
    deployment = model_deployments(render_scenario("several-models"))["prod-digits-v1"]
    variables = env(deployment["spec"]["template"]["spec"]["containers"][0])
    assert variables["MODELFLEET_MODEL"] == "digits" and variables["MODELFLEET_VERSION"] == "v1"
    assert variables["MODELFLEET_SERVER__PORT"] == "8080"
    assert variables["MODELFLEET_BATCHING__MAX_BATCH_SIZE"] == "64"
    assert variables["MODELFLEET_BATCHING__MAX_WAIT_MS"] == "5"
    assert variables["MODELFLEET_TORCH_THREADS"] == "2"
    assert variables["MODELFLEET_MAX_BODY_BYTES"] == "8388608"  # digits takes images
    assert variables["MODELFLEET_METRICS_DIR"] == "/tmp"
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"


def test_a_model_entry_overrides_the_defaults_key_by_key(render_scenario: RenderScenario) -> None:
    deployments = model_deployments(render_scenario("several-models"))
    digits = deployments["prod-digits-v1"]["spec"]["template"]["spec"]["containers"][0]
    iris = deployments["prod-iris-v1"]["spec"]["template"]["spec"]["containers"][0]
    assert digits["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"memory": "3Gi"},
    }
    assert iris["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}


def test_replicas_are_left_to_the_hpa_when_autoscaling_is_on(
    render_scenario: RenderScenario,
) -> None:
    for deployment in by_kind(render_scenario("defaults"), "Deployment").values():
        assert "replicas" not in deployment["spec"]
    for deployment in by_kind(render_scenario("fixed-replicas"), "Deployment").values():
        assert deployment["spec"]["replicas"] in (2, 3)
    assert "HorizontalPodAutoscaler" not in {m["kind"] for m in render_scenario("fixed-replicas")}


def test_the_hpa_scales_on_cpu_and_optionally_on_inflight_requests(
    render_scenario: RenderScenario,
) -> None:
    plain = by_kind(render_scenario("defaults"), "HorizontalPodAutoscaler")["iris-v1"]["spec"]
    assert [m["type"] for m in plain["metrics"]] == ["Resource"]
    assert {"scaleUp", "scaleDown"} <= plain["behavior"].keys()
    custom = by_kind(render_scenario("custom-metric-hpa"), "HorizontalPodAutoscaler")["iris-v2"][
        "spec"
    ]
    pods = next(m["pods"] for m in custom["metrics"] if m["type"] == "Pods")
    assert pods["metric"]["name"] == "modelfleet_inflight_requests"
    assert pods["target"] == {"type": "AverageValue", "averageValue": "4"}
    assert (custom["minReplicas"], custom["maxReplicas"]) == (2, 8)


def test_a_pvc_registry_is_mounted_read_only_and_named_in_the_env(
    render_scenario: RenderScenario,
) -> None:
    spec = by_kind(render_scenario("pvc-registry"), "Deployment")["iris-v1"]["spec"]["template"][
        "spec"
    ]
    claim = next(v for v in spec["volumes"] if v["name"] == "registry")["persistentVolumeClaim"]
    assert claim == {"claimName": "model-registry", "readOnly": True}
    assert env(spec["containers"][0])["MODELFLEET_REGISTRY"] == "/registry"
    baked = by_kind(render_scenario("defaults"), "Deployment")["iris-v1"]["spec"]["template"][
        "spec"
    ]
    assert env(baked["containers"][0])["MODELFLEET_REGISTRY"] == "/opt/modelfleet/registry"
    assert [v["name"] for v in baked["volumes"]] == ["tmp"]


def test_servicemonitors_render_only_when_the_crd_is_served(
    render_scenario: RenderScenario,
) -> None:
    assert "ServiceMonitor" not in {m["kind"] for m in render_scenario("defaults")}
    monitors = by_kind(render_scenario("monitoring-crds"), "ServiceMonitor")
    models = {"iris", "digits", "minilm", "styles", "segment", "penguins"}
    assert models | {"modelfleet-gateway"} == monitors.keys()
    endpoint = monitors["iris"]["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")


def test_network_policy_lets_only_the_gateway_tests_and_prometheus_in(
    render_scenario: RenderScenario,
) -> None:
    manifests = render_scenario("defaults")
    policy = by_kind(manifests, "NetworkPolicy")["iris"]["spec"]
    sources = policy["ingress"][0]["from"]
    gateway_labels = by_kind(manifests, "Deployment")["modelfleet-gateway"]["spec"]["template"][
        "metadata"
    ]["labels"]
    allowed_gateway = sources[0]["podSelector"]["matchLabels"]
    assert allowed_gateway.items() <= gateway_labels.items()
    assert sources[1]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "test"
    assert sources[2]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert policy["podSelector"]["matchLabels"]["modelfleet.io/model"] == "iris"

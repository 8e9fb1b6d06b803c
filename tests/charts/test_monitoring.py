"""Monitoring as people run it: the Prometheus Operator, kube-prometheus-stack,
Alloy / vmagent / managed collectors, and more than one fleet per namespace.
"""

from __future__ import annotations

import yaml
from prometheus_client import generate_latest

from gateway.metrics import create_metrics
from tests.charts.helm import MONITORING_APIS, ROOT, Helm, RenderScenario, by_kind

RELEASE_LABEL = {"release": "kube-prometheus-stack"}
MODELS = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())["models"]
MONITORS = {*MODELS, "modelfleet-gateway"}


def fleet_labels(monitor: dict) -> set[str]:
    return {
        r["replacement"]
        for e in monitor["spec"]["endpoints"]
        for r in e.get("relabelings", [])
        if r["targetLabel"] == "fleet"
    }


def test_every_servicemonitor_labels_its_series_with_the_fleet(
    render_scenario: RenderScenario, helm: Helm
) -> None:
    """The rules group by (namespace, fleet, ...): the release name unless set."""
    monitors = by_kind(render_scenario("monitoring-crds"), "ServiceMonitor")
    assert {name: fleet_labels(m) for name, m in monitors.items()} == {
        name: {"modelfleet"} for name in MONITORS
    }
    values = {"serviceMonitor": {"fleet": "blue"}, "gateway": {"serviceMonitor": {"fleet": "blue"}}}
    renamed = by_kind(helm.template(values=values, api_versions=MONITORING_APIS), "ServiceMonitor")
    assert all(fleet_labels(m) == {"blue"} for m in renamed.values())


def test_a_fleet_label_that_differs_between_models_and_gateway_is_refused(helm: Helm) -> None:
    message = helm.template_error(values={"serviceMonitor": {"fleet": "blue"}})
    assert (
        'serviceMonitor.fleet ("blue") and gateway.serviceMonitor.fleet ("modelfleet") differ'
        in message
    )


def test_servicemonitors_and_the_prometheusrule_carry_the_label_prometheus_selects_on(
    helm: Helm,
) -> None:
    values = {
        "serviceMonitor": {"labels": RELEASE_LABEL},
        "gateway": {"serviceMonitor": {"labels": RELEASE_LABEL}, "prometheusRule": {"labels": RELEASE_LABEL}},
    }  # fmt: skip
    manifests = helm.template(values=values, api_versions=MONITORING_APIS)
    selected = [m for m in manifests if m["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert len(selected) == len(MONITORS) + 1  # and the one PrometheusRule
    assert all(m["metadata"]["labels"]["release"] == "kube-prometheus-stack" for m in selected)


def test_any_collector_may_be_named_as_a_scraper(helm: Helm) -> None:
    """Alloy in its own namespace joins Prometheus; removing Prometheus leaves Alloy alone."""
    alloy = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "alloy"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "alloy"}},
    }
    scrapers = {"prometheus": None, "alloy": alloy}
    values = {
        "networkPolicy": {"scrapers": scrapers},
        "gateway": {"networkPolicy": {"scrapers": scrapers}},
    }
    policies = by_kind(helm.template(values=values), "NetworkPolicy")
    model_peers = policies["iris"]["spec"]["ingress"][0]["from"]
    assert model_peers[-1] == alloy and len(model_peers) == 3  # gateway, tests, alloy
    metrics_rule = policies["modelfleet-gateway"]["spec"]["ingress"][1]
    assert metrics_rule == {"ports": [{"port": "metrics", "protocol": "TCP"}], "from": [alloy]}


def test_the_gateway_hpa_scales_on_a_metric_the_gateway_exports(helm: Helm) -> None:
    """An HPA whose metric does not exist never scales down."""
    values = {"gateway": {"autoscaling": {"inflightRequests": {"enabled": True}}}}
    hpa = by_kind(helm.template(values=values), "HorizontalPodAutoscaler")["modelfleet-gateway"]
    (metric,) = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    exported = generate_latest(create_metrics().registry).decode()
    assert f"# TYPE {metric} gauge" in exported


def test_the_gateway_is_scraped_on_its_metrics_port(render_scenario: RenderScenario) -> None:
    manifests = render_scenario("monitoring-crds")
    monitor = by_kind(manifests, "ServiceMonitor")["modelfleet-gateway"]["spec"]
    services = by_kind(manifests, "Service")
    scraped = [
        s for s in services.values()
        if monitor["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]  # fmt: skip
    assert [s["metadata"]["name"] for s in scraped] == ["modelfleet-gateway-metrics"]
    assert monitor["endpoints"][0]["port"] == "metrics"
    assert [p["name"] for p in scraped[0]["spec"]["ports"]] == ["metrics"]
    container = by_kind(manifests, "Deployment")["modelfleet-gateway"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics")
    variables = {e["name"]: e.get("value") for e in container["env"]}
    assert variables["MODELFLEET_SERVER__METRICS_PORT"] == str(port)


def test_without_scrapers_no_one_reaches_the_gateway_metrics_port(helm: Helm) -> None:
    values = {"networkPolicy": {"scrapers": {"prometheus": None}}}
    policy = by_kind(helm.template("gateway", values), "NetworkPolicy")["modelfleet-gateway"]
    assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]

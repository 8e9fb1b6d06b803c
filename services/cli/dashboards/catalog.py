"""The four modelfleet dashboards, panel by panel (metric names: DESIGN.md).

Model-service panels read the services' own metrics (the version's truth,
including requests the gateway retried elsewhere); routing panels read the
gateway's. CPU and memory come from cAdvisor and kube-state-metrics, so they
show data in a cluster only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .grafana import (
    Panel,
    Query,
    VariableSource,
    dashboard,
    distribution,
    status,
    summary_table,
    timeline,
)
from .promql import BY_VERSION, RATE_WINDOW, gauge, mean, quantile, rate, share

__all__ = ["DASHBOARDS"]

REQUESTS = "modelfleet_requests_total"
LATENCY = "modelfleet_request_duration_seconds"
GATEWAY_REQUESTS = "modelfleet_gateway_requests_total"
SERVICE_SOURCE = VariableSource(REQUESTS)
EACH = "{{model}} {{version}}"
READY_STATES = {0: ("not ready", "red"), 1: ("ready", "green")}
GUARD_STATES = {0: ("routing", "green"), 1: ("aborted", "red")}
# Pods of a version's Deployment (fleetlib.versionName):
# `<namePrefix><model>-<version>-<hash>-<id>`.
PODS = 'namespace=~"$namespace", pod=~".*$model-$version-.*"'


def legend(by: str) -> str:
    """`"model, version"` -> `"{{model}} {{version}}"`."""
    return " ".join(f"{{{{{label.strip()}}}}}" for label in by.split(","))


def quantiles(
    histogram: str,
    *,
    by: str = BY_VERSION,
    qs: tuple[float, ...] = (0.5, 0.95, 0.99),
    name: str = "",
) -> list[Query]:
    prefix = f"{name} " if name else ""
    return [Query(quantile(q, histogram, by=by), f"{prefix}{legend(by)} p{round(q * 100)}")
            for q in qs]  # fmt: skip


def error_shares(by: str = BY_VERSION) -> list[Query]:
    return [
        Query(share(REQUESTS, f'code=~"{cls}.."', by=by), f"{legend(by)} {cls}xx") for cls in (5, 4)
    ]


def fleet() -> dict[str, Any]:
    panels: list[Panel] = [
        status("Ready replicas", "Replicas whose model is loaded and warmed (0 = not ready).",
               "short", Query(gauge("sum", "modelfleet_model_ready"), EACH), READY_STATES),
        timeline("In-flight requests", "Requests being served right now, over all workers.",
                 "short", Query(gauge("sum", "modelfleet_inflight_requests"), EACH)),
        timeline("Requests per second", "Requests answered by each model version.",
                 "reqps", Query(rate(REQUESTS), EACH)),
        timeline("Error %", "Share of requests answered 5xx (server) and 4xx (caller mistakes).",
                 "percentunit", *error_shares()),
        timeline("Latency p50 / p95 / p99", "Time to answer a request at the model service.",
                 "s", *quantiles(LATENCY), width=24),
        summary_table("Served versions", "Artifact of each running version.", {
            "Loaded": Query(gauge("max", "modelfleet_model_info",
                                  by="model, version, framework, sha256")),
        }),
    ]  # fmt: skip
    return dashboard("modelfleet-fleet", "modelfleet / Fleet overview",
                     "Traffic, errors, latency and readiness of every model version.",
                     SERVICE_SOURCE, panels)  # fmt: skip


def canary() -> dict[str, Any]:
    by = "version"
    weights = gauge("max", "modelfleet_gateway_route_weight", by=by)
    aborted = gauge("max", "modelfleet_gateway_canary_aborted", by=by)
    panels: list[Panel] = [
        summary_table("Versions side by side", "Now, per version: the numbers to promote on.", {
            "Weight %": Query(weights),
            "Requests/s": Query(rate(REQUESTS, by=by)),
            "5xx share": Query(share(REQUESTS, 'code=~"5.."', by=by)),
            "p99 (s)": Query(quantile(0.99, LATENCY, by=by)),
        }),
        timeline("Route weights", "Configured share of traffic per version (percent).",
                 "percent", Query(weights, "{{version}}"), width=8),
        status("Guard state", "1 while the gateway's canary guard holds a version out.", "short",
               Query(f"{aborted} or 0 * {weights}", "{{version}}"), GUARD_STATES, width=8),
        timeline("Shadow agreement %", "Shadow answers equal to the primary's answer.",
                 "percentunit", Query(share("modelfleet_gateway_shadow_total", 'result="agree"',
                                            by=by), "{{version}}"), width=8),
        timeline("Requests per second", "Requests answered by each version's service.",
                 "reqps", Query(rate(REQUESTS, by=by), "{{version}}")),
        timeline("Error %", "Share of each version's requests answered 5xx and 4xx.",
                 "percentunit", *error_shares(by)),
        timeline("Latency p50 / p95 / p99", "Time to answer a request at each version's service.",
                 "s", *quantiles(LATENCY, by=by)),
        timeline("Gateway traffic by variant", "How the gateway chose the version: weighted "
                 "stable or canary, pinned by header, or shadow copy.", "reqps",
                 Query(rate(GATEWAY_REQUESTS, by="version, variant"), "{{version}} {{variant}}")),
        timeline("Shadow comparisons", "Shadow answers per second by result.", "reqps",
                 Query(rate("modelfleet_gateway_shadow_total", by="version, result"),
                       "{{version}} {{result}}"), width=24),
    ]  # fmt: skip
    return dashboard("modelfleet-canary", "modelfleet / Canary vs stable",
                     "One model's versions compared before a promotion or a rollback.",
                     VariableSource(REQUESTS, single_model=True), panels)  # fmt: skip


def model() -> dict[str, Any]:
    container = f'{PODS}, container!="", container!="POD"'
    panels: list[Panel] = [
        distribution("Batch size distribution", "Model calls per batch-size bucket.",
                     Query(rate("modelfleet_batch_size_bucket", by="le"), "{{le}}")),
        timeline("Mean batch size", "Instances per model call, on average.", "short",
                 Query(mean("modelfleet_batch_size"), EACH)),
        timeline("Queue wait vs inference time", "Time an instance waits for its batch "
                 "against the model call itself: a growing wait means too little capacity.", "s",
                 *quantiles("modelfleet_queue_wait_seconds", qs=(0.5, 0.99), name="queue wait"),
                 *quantiles("modelfleet_inference_duration_seconds", qs=(0.5, 0.99),
                            name="inference"), width=24),
        status("Model load time", "Seconds to load and warm the artifact at start.",
               "s", Query(gauge("max", "modelfleet_model_load_seconds"), EACH), width=8),
        timeline("Requests by handler and code", "Requests per second at each handler (route).",
                 "reqps", Query(rate(REQUESTS, by="version, handler, code"),
                                "{{version}} {{handler}} {{code}}"), width=16),
        timeline("CPU per pod", "Cores used (cAdvisor) and requested (kube-state-metrics); "
                 "Kubernetes only.", "short",
                 Query(f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}"
                       f"[{RATE_WINDOW}]))", "{{pod}}"),
                 Query(f'sum by (pod) (kube_pod_container_resource_requests{{{PODS}, '
                       f'resource="cpu"}})', "{{pod}} request")),
        timeline("Memory per pod", "Working set (cAdvisor) and limit (kube-state-metrics); "
                 "Kubernetes only.", "bytes",
                 Query(f"sum by (pod) (container_memory_working_set_bytes{{{container}}})",
                       "{{pod}}"),
                 Query(f'sum by (pod) (kube_pod_container_resource_limits{{{PODS}, '
                       f'resource="memory"}})', "{{pod}} limit")),
    ]  # fmt: skip
    return dashboard("modelfleet-model", "modelfleet / Inside a model",
                     "Batching, queueing, inference and resources of model versions.",
                     SERVICE_SOURCE, panels)  # fmt: skip


def gateway() -> dict[str, Any]:
    panels: list[Panel] = [
        timeline("Requests by variant", "Routed requests per second by how the version was "
                 "chosen.", "reqps",
                 Query(rate(GATEWAY_REQUESTS, by="model, variant"), "{{model}} {{variant}}")),
        timeline("Responses by code", "Status codes the gateway answered.", "reqps",
                 Query(rate(GATEWAY_REQUESTS, by="model, code"), "{{model}} {{code}}")),
        timeline("Upstream latency p50 / p95 / p99", "Time to answer a routed request, "
                 "by the version that answered.", "s",
                 *quantiles("modelfleet_gateway_request_duration_seconds"), width=24),
        timeline("Retries", "Upstream calls retried, by the version that failed.", "reqps",
                 Query(rate("modelfleet_gateway_retries_total"), EACH)),
        timeline("Upstream errors by reason", "Failed upstream calls: connect, timeout, "
                 "5xx answers.", "reqps",
                 Query(rate("modelfleet_gateway_upstream_errors_total",
                            by="model, version, reason"), "{{model}} {{version}} {{reason}}")),
    ]  # fmt: skip
    return dashboard("modelfleet-gateway", "modelfleet / Gateway",
                     "Routing, retries and upstream health as the gateway sees them.",
                     VariableSource(GATEWAY_REQUESTS), panels)  # fmt: skip


# File name (without .json) -> builder; the files live in charts/gateway/files/dashboards/.
DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "fleet-overview": fleet,
    "canary-vs-stable": canary,
    "inside-a-model": model,
    "gateway": gateway,
}

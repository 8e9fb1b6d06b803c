"""Gateway metrics (names are a contract, see DESIGN.md), built per app in a factory.

Each app gets its own `CollectorRegistry`, so several apps can live in one
test process. The gateway is one process, so no multiprocess collector is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

__all__ = ["GatewayMetrics", "create_metrics"]

ROUTE = ("model", "version", "variant")
# The model services' buckets (iris answers in ~1 ms end to end) plus 30 s, for
# slow and timed-out upstreams.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075,
    0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


@dataclass(frozen=True)
class GatewayMetrics:
    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    upstream_errors: Counter
    retries: Counter
    route_weight: Gauge
    shadow: Counter
    shadow_dropped: Counter
    canary_aborted: Gauge
    ejections: Counter
    reloads: Counter
    inflight: Gauge
    _answers: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = field(
        default_factory=dict, repr=False
    )

    def answered(self, route: tuple[str, str, str], code: int, seconds: float) -> None:
        """Count and time one routed answer. `labels()` costs more than the update
        itself, so each (model, version, variant, code)'s children are bound once."""
        key = (*route, code)
        bound = self._answers.get(key)
        if bound is None:
            counted = self.requests.labels(*route, str(code))
            bound = self._answers[key] = (counted, self.duration.labels(*route))
        bound[0].inc()
        bound[1].observe(seconds)


def create_metrics() -> GatewayMetrics:
    """A fresh registry holding every gateway metric."""
    reg = CollectorRegistry()
    ProcessCollector(registry=reg)
    PlatformCollector(registry=reg)

    def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, doc, labels, registry=reg)

    def gauge(name: str, doc: str, labels: tuple[str, ...]) -> Gauge:
        return Gauge(name, doc, labels, registry=reg)

    model_version = ("model", "version")
    return GatewayMetrics(
        registry=reg,
        requests=counter(
            "modelfleet_gateway_requests", "Routed requests by answer code", (*ROUTE, "code")
        ),
        duration=Histogram(
            "modelfleet_gateway_request_duration_seconds",
            "Time to answer a routed request",
            ROUTE,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        ),
        upstream_errors=counter(
            "modelfleet_gateway_upstream_errors", "Failed upstream calls", (*ROUTE, "reason")
        ),
        retries=counter("modelfleet_gateway_retries", "Calls retried, by failed version", ROUTE),
        route_weight=gauge("modelfleet_gateway_route_weight", "Configured weight", ROUTE),
        shadow=counter(
            "modelfleet_gateway_shadow", "Shadow vs primary answers", (*model_version, "result")
        ),
        shadow_dropped=counter(
            "modelfleet_gateway_shadow_dropped",
            "Shadow copies not sent (too many in flight)",
            model_version,
        ),
        canary_aborted=gauge(
            "modelfleet_gateway_canary_aborted", "1 while the guard holds a canary", model_version
        ),
        ejections=counter("modelfleet_gateway_ejections", "Versions ejected", model_version),
        reloads=counter("modelfleet_gateway_routes_reloads", "Routes reloads", ("result",)),
        # Per pod, unlabelled: what the gateway's HPA scales on (prometheus-adapter).
        inflight=gauge(
            "modelfleet_gateway_inflight_requests", "Routed requests being answered now", ()
        ),
    )

"""Gateway metrics (names are a contract, see DESIGN.md), built per app in a factory.

Each app gets its own `CollectorRegistry`, so several apps can live in one
test process. The gateway is one process, so no multiprocess collector is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

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
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


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


def create_metrics() -> GatewayMetrics:
    """A fresh registry holding every gateway metric."""
    reg = CollectorRegistry()
    ProcessCollector(registry=reg)
    PlatformCollector(registry=reg)
    return GatewayMetrics(
        registry=reg,
        requests=Counter(
            "modelfleet_gateway_requests",
            "Routed requests by answer code",
            (*ROUTE, "code"),
            registry=reg,
        ),
        duration=Histogram(
            "modelfleet_gateway_request_duration_seconds",
            "Time to answer a routed request",
            ROUTE,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        ),
        upstream_errors=Counter(
            "modelfleet_gateway_upstream_errors",
            "Failed upstream calls by reason",
            (*ROUTE, "reason"),
            registry=reg,
        ),
        retries=Counter(
            "modelfleet_gateway_retries",
            "Upstream calls retried, by the version that failed",
            ROUTE,
            registry=reg,
        ),
        route_weight=Gauge(
            "modelfleet_gateway_route_weight",
            "Configured weight of each version",
            ROUTE,
            registry=reg,
        ),
        shadow=Counter(
            "modelfleet_gateway_shadow",
            "Shadow answers compared with the primary's",
            ("model", "version", "result"),
            registry=reg,
        ),
        shadow_dropped=Counter(
            "modelfleet_gateway_shadow_dropped",
            "Shadow copies not sent: too many in flight",
            ("model", "version"),
            registry=reg,
        ),
        canary_aborted=Gauge(
            "modelfleet_gateway_canary_aborted",
            "1 while the guard holds a canary out",
            ("model", "version"),
            registry=reg,
        ),
        ejections=Counter(
            "modelfleet_gateway_ejections",
            "Times a failing version was ejected",
            ("model", "version"),
            registry=reg,
        ),
        reloads=Counter(
            "modelfleet_gateway_routes_reloads",
            "Routes file reloads by result",
            ("result",),
            registry=reg,
        ),
    )

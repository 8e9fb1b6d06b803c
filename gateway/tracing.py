"""OpenTelemetry for the gateway, switched on by the standard `OTEL_*` variables.

With `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set,
the gateway gets a tracer provider (service.name `modelfleet-gateway`), a server
span per request (health and metrics paths excluded) and a client span per
upstream call, exported over OTLP/HTTP in batches so a slow collector never
delays a request. Without them nothing is instrumented: the caller's
`traceparent` and `tracestate` are forwarded unchanged, so the model service
still joins the caller's trace, and the hot path pays nothing for tracing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING

from fastapi import FastAPI

from .client import Origin, RawHeader, Spans

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "EXCLUDED_URLS",
    "client_spans",
    "export_configured",
    "instrument_app",
    "resource_attributes",
]

SERVICE_NAME = "modelfleet-gateway"
EXCLUDED_URLS = "/healthz,/readyz,/metrics,/v2/health/live,/v2/health/ready"
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Downward-API variables the Helm chart sets, mapped to semantic-convention keys.
K8S_ATTRIBUTES = {
    "K8S_POD_NAME": "k8s.pod.name",
    "K8S_NAMESPACE_NAME": "k8s.namespace.name",
    "K8S_NODE_NAME": "k8s.node.name",
}


def resource_attributes() -> dict[str, str]:
    """service.name/version plus the pod, namespace and node when the chart passes them."""
    attributes = {"service.name": SERVICE_NAME, "service.version": package_version("modelfleet")}
    present = {key: os.environ.get(var, "") for var, key in K8S_ATTRIBUTES.items()}
    return attributes | {key: value for key, value in present.items() if value}


def export_configured() -> bool:
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return any(os.environ.get(var) for var in ENDPOINT_VARS)


def _provider() -> TracerProvider:
    """The process's tracer provider, created once (several apps may share a process)."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create(resource_attributes()))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def instrument_app(app: FastAPI) -> None:
    """Server spans for every request except probes and metrics."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider(),
        excluded_urls=EXCLUDED_URLS,
    )


def client_spans() -> Spans:
    """Client spans for upstream calls; each carries the trace on to the service in
    `traceparent` (replacing the caller's, which the gateway's server span continues).
    Name and attributes follow the HTTP client semantic conventions (the span is
    named after the method); it ends when the answer's head arrives, or fails."""
    from opentelemetry import trace
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = _provider().get_tracer("gateway.upstream", package_version("modelfleet"))

    class ClientSpan:
        def __init__(
            self, method: str, origin: Origin, target: bytes, headers: Sequence[RawHeader]
        ) -> None:
            path = target.partition(b"?")[0]
            self.span = tracer.start_span(
                method,
                kind=SpanKind.CLIENT,
                attributes={
                    "http.request.method": method,
                    "url.full": f"http://{origin.authority.decode()}{(origin.prefix + path).decode()}",
                    "server.address": origin.host,
                    "server.port": origin.port,
                },
            )
            carrier: dict[str, str] = {}
            inject(carrier, context=trace.set_span_in_context(self.span))
            fields = {name.encode() for name in carrier}
            self.headers = [(k, v) for k, v in headers if k.lower() not in fields]
            self.headers += [(k.encode(), v.encode()) for k, v in carrier.items()]

        def end(self, status: int) -> None:
            self.span.set_attribute("http.response.status_code", status)
            if status >= 500:
                self.span.set_status(Status(StatusCode.ERROR))
            self.span.end()

        def fail(self, exc: BaseException) -> None:
            self.span.record_exception(exc)
            self.span.set_attribute("error.type", type(exc).__qualname__)
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.end()

    return ClientSpan

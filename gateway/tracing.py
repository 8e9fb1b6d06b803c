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
from importlib.metadata import version as package_version
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
from fastapi import FastAPI

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "EXCLUDED_URLS",
    "client_trace_config",
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


def client_trace_config() -> aiohttp.TraceConfig:
    """Client spans for upstream calls, from aiohttp's request hooks; each carries the
    trace on to the service in `traceparent`. Span name and attributes follow the
    HTTP client semantic conventions (the span is named after the method)."""
    from opentelemetry import trace
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = _provider().get_tracer("gateway.upstream", package_version("modelfleet"))

    async def start(
        _: object, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        url = params.url
        ctx.span = tracer.start_span(
            params.method,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": params.method,
                "url.full": str(url.with_query(None)),
                "server.address": url.host or "",
                "server.port": url.port or 80,
            },
        )
        inject(params.headers, context=trace.set_span_in_context(ctx.span))

    async def end(_: object, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        status = params.response.status
        ctx.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            ctx.span.set_status(Status(StatusCode.ERROR))
        ctx.span.end()

    async def fail(
        _: object, ctx: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams
    ) -> None:
        ctx.span.record_exception(params.exception)
        ctx.span.set_attribute("error.type", type(params.exception).__qualname__)
        ctx.span.set_status(Status(StatusCode.ERROR))
        ctx.span.end()

    config = aiohttp.TraceConfig()
    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(fail)
    return config

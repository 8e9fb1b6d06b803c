"""OpenTelemetry tracing: one tracer provider per process, export only when configured.

Export is configured solely by the standard variables
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...);
with neither set, spans are still created (trace ids reach logs and response
headers) but nothing is exported. Spans leave through a BatchSpanProcessor, so
a slow or absent collector never delays a request.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

__all__ = ["instrument_app", "setup_tracing"]

EXCLUDED_URLS = "/healthz,/readyz,/metrics,/v2/health/live,/v2/health/ready"
# Downward-API variables the Helm chart sets, mapped to semantic-convention keys.
K8S_ATTRIBUTES = {
    "K8S_POD_NAME": "k8s.pod.name",
    "K8S_NAMESPACE_NAME": "k8s.namespace.name",
    "K8S_NODE_NAME": "k8s.node.name",
}


def setup_tracing(service_name: str, service_version: str) -> None:
    """Install the process's tracer provider (once; later calls keep the first)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    attributes = {"service.name": service_name, "service.version": service_version}
    attributes |= {
        key: os.environ[var] for var, key in K8S_ATTRIBUTES.items() if os.environ.get(var)
    }
    provider = TracerProvider(resource=Resource.create(attributes))
    if _export_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _export_configured() -> bool:
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return any(
        os.environ.get(var)
        for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def instrument_app(app: FastAPI) -> None:
    # One server span per request; the per-message `http send`/`http receive`
    # child spans cost as much CPU as the rest of the request and say nothing.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
    )

"""OpenTelemetry tracing: one tracer provider per process, export only when configured.

Each request but the probes gets one server span (`ServerSpan`), opened by the
request middleware and named after the matched route (`POST
/v1/models/{name}/predict`, the HTTP semantic conventions' name), child of the
caller's `traceparent`; the batcher adds its `queue_wait` and `inference` spans.
opentelemetry-instrumentation-fastapi does not open it: its ASGI middleware wraps
every receive and send for the same one span (README, *Performance*).

Sampling follows the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`
variables (the SDK's default: parent-based, always on). A sampled-out request
records no span at all, yet keeps its trace id (response header, log lines),
its request id and its metrics.

Export is configured solely by the standard variables
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...);
with neither set, every request is sampled out: spans nobody can receive are
not recorded (they cost about as much as the rest of the runtime's own work),
and trace ids still reach logs and response headers. Spans leave through a
BatchSpanProcessor, so a slow or absent collector never delays a request.
"""

from __future__ import annotations

import os

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, SpanKind, StatusCode
from starlette.types import Scope

__all__ = ["ServerSpan", "setup_tracing"]

NOT_TRACED = frozenset({"/healthz", "/readyz", "/metrics", "/v2/health/live", "/v2/health/ready"})
# Downward-API variables the Helm chart sets, mapped to semantic-convention keys.
K8S_ATTRIBUTES = {
    "K8S_POD_NAME": "k8s.pod.name",
    "K8S_NAMESPACE_NAME": "k8s.namespace.name",
    "K8S_NODE_NAME": "k8s.node.name",
}
tracer = trace.get_tracer("modelfleet.runtime")


def setup_tracing(service_name: str, service_version: str) -> None:
    """Install the process's tracer provider (once; later calls keep the first)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    attributes = {"service.name": service_name, "service.version": service_version}
    attributes |= {
        key: os.environ[var] for var, key in K8S_ATTRIBUTES.items() if os.environ.get(var)
    }
    exporting = _export_configured()
    # sampler None: the SDK reads OTEL_TRACES_SAMPLER and its argument.
    provider = TracerProvider(
        resource=Resource.create(attributes), sampler=None if exporting else ALWAYS_OFF
    )
    if exporting:
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


class _AsgiHeaders(Getter[list[tuple[bytes, bytes]]]):
    """The propagators' view of an ASGI header list (names arrive lower-case)."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.encode("latin-1")
        found = [value.decode("latin-1") for name, value in carrier if name == wanted]
        return found or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier]


_HEADERS = _AsgiHeaders()


class ServerSpan:
    """A request's server span, current (in the context) from `open` to `close`.

    Probes get none (`span` is None). A sampled-out span is not recording: it still
    has the trace id, and nothing else is done for it."""

    def __init__(self, scope: Scope) -> None:
        self.span: Span | None = None
        self._token: object | None = None
        if scope["path"] in NOT_TRACED:
            return
        parent = propagate.extract(scope["headers"], getter=_HEADERS)
        method = scope["method"]
        self.span = tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        if self.span.is_recording():
            self.span.set_attributes(
                {
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "url.scheme": scope.get("scheme", "http"),
                    "network.protocol.version": scope.get("http_version", "1.1"),
                }
            )
        self._token = context.attach(trace.set_span_in_context(self.span, parent))

    def trace_id(self) -> str | None:
        """The trace id in hex (also of a sampled-out span); None for probes."""
        return None if self.span is None else format(self.span.get_span_context().trace_id, "032x")

    def close(self, scope: Scope, status: int) -> None:
        """End the span with the route the request matched and the status it got."""
        if self.span is None:
            return
        context.detach(self._token)  # type: ignore[arg-type]
        if self.span.is_recording():
            route = getattr(scope.get("route"), "path", None)
            if route is not None:
                self.span.update_name(f"{scope['method']} {route}")
                self.span.set_attribute("http.route", route)
            self.span.set_attribute("http.response.status_code", status)
            if status >= 500:
                self.span.set_attribute("error.type", str(status))
                self.span.set_status(StatusCode.ERROR)
        self.span.end()

"""One request through the gateway is one trace, from gateway to model service.

A small OTLP/HTTP receiver in the test collects what both processes export.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.conftest import ServeModel
from tests.processes import (
    Server,
    free_port,
    launch,
    python_module,
    stop_server,
    wait_ready,
    wait_until,
)
from tests.scrape import samples, value
from tests.services.styles.pictures import photo, upload

GOOD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
# What the chart's downward API passes to every container.
POD = {"K8S_POD_NAME": "pod-a", "K8S_NAMESPACE_NAME": "ml", "K8S_NODE_NAME": "node-1"}


class Receiver(ThreadingHTTPServer):
    spans: list[tuple[str, str, str]]
    """(service.name, span name, trace id hex) of every span received."""
    resources: dict[str, dict[str, str]]
    """Resource attributes by service.name."""
    seconds: dict[tuple[str, str, str], float]
    """How long each (service.name, span name, trace id hex) span lasted."""


class OtlpHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        request = ExportTraceServiceRequest.FromString(
            self.rfile.read(int(self.headers["Content-Length"]))
        )
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            self.server.resources[attributes["service.name"]] = attributes
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    key = (attributes["service.name"], span.name, span.trace_id.hex())
                    self.server.spans.append(key)
                    lasted = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9
                    self.server.seconds[key] = lasted
        body = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), OtlpHandler)
    server.spans = []
    server.resources = {}
    server.seconds = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def start_gateway(
    tmp_path: Path, upstream: str, otel: dict[str, str], model: str = "iris"
) -> Server:
    routes = tmp_path / "routes" / "routes.yaml"
    routes.parent.mkdir()
    routes.write_text(
        yaml.safe_dump({"models": {model: {"versions": {"v1": {"url": upstream, "weight": 100}}}}})
    )
    port = free_port()
    env = {"MODELFLEET_ROUTES_FILE": str(routes), "MODELFLEET_SERVER__HOST": "127.0.0.1",
           "MODELFLEET_SERVER__PORT": str(port), **otel}  # fmt: skip
    return wait_ready(
        launch("gateway", lambda _: python_module("gateway"), tmp_path, env=env, port=port)
    )


def test_one_request_is_one_trace_across_gateway_and_service(
    serve_model: ServeModel, receiver: Receiver, tmp_path: Path
) -> None:
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_port}",
        **FAST_EXPORT,
        **POD,
    }
    service = serve_model("iris", "v1", env=otel)
    gateway = start_gateway(tmp_path, service.url, otel)
    try:
        response = httpx.post(gateway.url + "/models/iris/predict", json=GOOD, timeout=10)
        assert response.status_code == 200, response.text
        trace_id = response.headers["x-trace-id"]
        wanted = {
            ("modelfleet-gateway", "server"), ("modelfleet-gateway", "POST"),
            ("modelfleet-iris", "server"), ("modelfleet-iris", "queue_wait"),
            ("modelfleet-iris", "inference"),
        }  # fmt: skip

        def seen() -> set[tuple[str, str]]:
            return {
                (service_name, "server" if name.startswith("POST /") else name)
                for service_name, name, tid in receiver.spans
                if tid == trace_id
            }

        wait_until(lambda: wanted <= seen(), 15, f"spans {wanted - seen()} of trace {trace_id}")
        for name, version in (("modelfleet-gateway", "0.1.0"), ("modelfleet-iris", "v1")):
            resource = receiver.resources[name]
            assert resource["service.version"] == version
            assert (resource["k8s.pod.name"], resource["k8s.namespace.name"]) == ("pod-a", "ml")
            assert resource["k8s.node.name"] == "node-1"
        logged = [line for line in service.output().splitlines() if trace_id in line]
        assert any('"status": 200' in line for line in logged)
    finally:
        stop_server(gateway)


def test_a_streamed_answer_is_one_trace_whose_gateway_span_lasts_the_stream(
    serve_model: ServeModel, receiver: Receiver, tmp_path: Path
) -> None:
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_port}",
            **FAST_EXPORT}  # fmt: skip
    service = serve_model("styles", "v1", env=otel)
    gateway = start_gateway(tmp_path, service.url, otel, model="styles")
    form = {"style": "twilight", "max_side": "96"}
    try:
        with httpx.stream(
            "POST", f"{gateway.url}/models/styles/all", files={"image": upload(photo(96, 64))},
            data=form, timeout=60,
        ) as response:  # fmt: skip
            lines = response.iter_lines()
            next(lines)
            first = time.monotonic()
            assert len(list(lines)) == 25
            streamed = time.monotonic() - first
            trace_id = response.headers["x-trace-id"]
        gateway_server = ("modelfleet-gateway", "POST /models/{name}/{rest:path}", trace_id)
        wanted = {gateway_server, ("modelfleet-gateway", "POST", trace_id)}
        wait_until(lambda: wanted <= set(receiver.spans), 15, f"the gateway spans of {trace_id}")
        wait_until(
            lambda: any(s == "modelfleet-styles" and t == trace_id for s, _, t in receiver.spans),
            15, "the service's spans in the same trace",
        )  # fmt: skip
        # The server span ends with the last line relayed, not when the answer started.
        assert receiver.seconds[gateway_server] >= streamed - 0.05
    finally:
        stop_server(gateway)


def test_an_unreachable_collector_does_not_slow_requests(serve_model: ServeModel) -> None:
    dead = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}", **FAST_EXPORT}
    service = serve_model("iris", "v1", env=dead)
    with httpx.Client(base_url=service.url, timeout=10) as client:
        durations = []
        for _ in range(30):
            started = time.perf_counter()
            assert client.post("/v1/models/iris/predict", json=GOOD).status_code == 200
            durations.append(time.perf_counter() - started)
    # A blocking exporter would hold requests for its connect/retry timeouts (seconds).
    assert max(durations) < 1.0, durations


def test_a_sampled_out_request_keeps_its_ids_and_is_counted_but_exports_nothing(
    serve_model: ServeModel, receiver: Receiver
) -> None:
    """`parentbased_always_off`: a request without a sampled parent records no span, one
    whose caller sampled it is traced as usual (the standard variables decide)."""
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_port}",
        "OTEL_TRACES_SAMPLER": "parentbased_always_off",
        **FAST_EXPORT,
    }
    service = serve_model("iris", "v1", env=otel)
    with httpx.Client(base_url=service.url, timeout=10) as client:
        quiet = client.post("/v1/models/iris/predict", json=GOOD, headers={"X-Request-Id": "q-1"})
        fresh = client.post("/v1/models/iris/predict", json=GOOD)
        parent = "0af7651916cd43dd8448eb211c80319c"
        traced = client.post(
            "/v1/models/iris/predict", json=GOOD,
            headers={"traceparent": f"00-{parent}-b7ad6b7169203331-01"},
        )  # fmt: skip
    assert [r.status_code for r in (quiet, fresh, traced)] == [200, 200, 200]
    assert quiet.headers["x-request-id"] == "q-1"
    assert len(fresh.headers["x-request-id"]) == 32
    assert traced.headers["x-trace-id"] == parent
    sampled_out = {quiet.headers["x-trace-id"], fresh.headers["x-trace-id"]}
    assert len(sampled_out) == 2 and parent not in sampled_out

    wanted = {"server", "queue_wait", "inference"}

    def traced_spans() -> set[str]:
        return {
            "server" if name.startswith("POST /") else name
            for _, name, tid in receiver.spans
            if tid == parent
        }

    wait_until(lambda: wanted <= traced_spans(), 15, f"the spans of the sampled trace {parent}")
    # One exporter sends spans in the order they ended: the sampled-out ones would be here.
    assert not [span for span in receiver.spans if span[2] in sampled_out]
    metrics = samples(service.url)
    assert value(metrics, "modelfleet_requests_total", handler="predict", code="200") == 3
    assert value(metrics, "modelfleet_queue_wait_seconds_count") == 3
    logged = [line for line in service.output().splitlines() if '"q-1"' in line]
    assert any(quiet.headers["x-trace-id"] in line and '"status": 200' in line for line in logged)

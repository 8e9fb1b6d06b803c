"""Prometheus metrics of a model service, correct across gunicorn workers.

Under gunicorn, `gunicorn_conf` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before any worker imports prometheus_client; each worker writes its
samples there and `/metrics` merges them with a MultiProcessCollector. Without
that variable (a single process, tests) the app's own registry is served.
Readiness is not a stored sample: the worker that answers the scrape says
what `/readyz` would say, which covers every worker (`services.runtime.workers`).

Buckets are for millisecond-scale inference: 0.5 ms .. 10 s, dense between
1 and 250 ms where tabular and small neural models answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .batching import BatchObserver, BatchTiming

__all__ = ["BATCH_SIZE_BUCKETS", "LATENCY_BUCKETS", "ServiceMetrics", "render_metrics"]

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075,
    0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LABELS = ("model", "version")


class ServiceMetrics(BatchObserver):
    """The DESIGN.md metric set for one model version, bound to its labels."""

    def __init__(self, model: str, version: str, ready: Callable[[], bool]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._labels = {"model": model, "version": version}
        self.readiness = ReadinessCollector(self._labels, ready)
        reg = self.registry
        reg.register(self.readiness)
        self.requests = Counter(
            "modelfleet_requests", "Requests answered, by handler and status code.",
            (*LABELS, "handler", "code"), registry=reg,
        )  # fmt: skip
        self.request_duration = Histogram(
            "modelfleet_request_duration_seconds", "Time to answer a request.",
            (*LABELS, "handler"), buckets=LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.inference = Histogram(
            "modelfleet_inference_duration_seconds", "One model call on one batch.",
            LABELS, buckets=LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.queue_wait_seconds = Histogram(
            "modelfleet_queue_wait_seconds", "Time an instance waited for its batch.",
            LABELS, buckets=LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.batch_size = Histogram(
            "modelfleet_batch_size", "Instances per model call.",
            LABELS, buckets=BATCH_SIZE_BUCKETS, registry=reg,
        )  # fmt: skip
        self.inflight = Gauge(
            "modelfleet_inflight_requests", "Requests being served, summed over workers.",
            LABELS, multiprocess_mode="livesum", registry=reg,
        ).labels(**self._labels)  # fmt: skip
        self.load_seconds = Gauge(
            "modelfleet_model_load_seconds", "Time to load and warm up the model.",
            LABELS, multiprocess_mode="max", registry=reg,
        ).labels(**self._labels)  # fmt: skip
        self.info = Gauge(
            "modelfleet_model_info", "Always 1; labels describe the served artifact.",
            (*LABELS, "framework", "sha256"), multiprocess_mode="max", registry=reg,
        )  # fmt: skip
        self.stream_results = Counter(
            "modelfleet_stream_results", "Results a streaming action computed.",
            (*LABELS, "action"), registry=reg,
        )  # fmt: skip
        self.streams_cancelled = Counter(
            "modelfleet_streams_cancelled",
            "Streams stopped before their end because the client went away.",
            (*LABELS, "action"), registry=reg,
        )  # fmt: skip

    def loaded(self, framework: str, sha256: str, seconds: float) -> None:
        self.info.labels(**self._labels, framework=framework, sha256=sha256).set(1)
        self.load_seconds.set(seconds)

    def request(self, handler: str, code: int, seconds: float) -> None:
        self.requests.labels(**self._labels, handler=handler, code=str(code)).inc()
        self.request_duration.labels(**self._labels, handler=handler).observe(seconds)

    def batch(self, timing: BatchTiming) -> None:
        self.batch_size.labels(**self._labels).observe(timing.size)
        self.inference.labels(**self._labels).observe(timing.seconds)

    def queue_wait(self, seconds: float) -> None:
        self.queue_wait_seconds.labels(**self._labels).observe(seconds)

    def stream_result(self, action: str) -> None:
        self.stream_results.labels(**self._labels, action=action).inc()

    def stream_cancelled(self, action: str) -> None:
        self.streams_cancelled.labels(**self._labels, action=action).inc()


class ReadinessCollector(Collector):
    """`modelfleet_model_ready`, computed at each scrape."""

    def __init__(self, labels: dict[str, str], ready: Callable[[], bool]) -> None:
        self._labels = labels
        self._ready = ready

    def describe(self) -> Iterator[Metric]:
        # Registration asks for names; without this it would collect, before the
        # service it reads is built.
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        family.add_metric(list(self._labels.values()), 1.0 if self._ready() else 0.0)
        yield family

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "modelfleet_model_ready",
            "1 when every worker has loaded and warmed the model (what /readyz says).",
            labels=list(self._labels),
        )


def render_metrics(metrics: ServiceMetrics) -> tuple[bytes, str]:
    """The exposition text: merged over workers when running under gunicorn."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(metrics.readiness)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(metrics.registry), CONTENT_TYPE_LATEST

"""Reading a service's /metrics in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["samples", "value"]


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    text = httpx.get(url + "/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: dict, name: str, **labels: str) -> float:
    wanted = {"model": "iris", "version": "v1"} | labels
    return sum(
        v for (n, ls), v in metrics.items() if n == name and wanted.items() <= dict(ls).items()
    )

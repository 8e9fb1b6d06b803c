"""PromQL shapes shared by every dashboard panel.

Every query filters on the dashboard variables with regex matchers, so the
"All" value `.*` also matches series without the label: the local stack has
no `namespace` or `fleet`, a cluster has both (the charts' ServiceMonitors add
`fleet`), and the same panels serve both.
"""

from __future__ import annotations

__all__ = [
    "BY_VERSION",
    "RATE_WINDOW",
    "gauge",
    "mean",
    "quantile",
    "rate",
    "share",
]

RATE_WINDOW = "$__rate_interval"
BY_VERSION = "model, version"
SCOPE = ('namespace=~"$namespace"', 'fleet=~"$fleet"', 'model=~"$model"', 'version=~"$version"')


def selector(matchers: tuple[str, ...]) -> str:
    return "{" + ", ".join((*SCOPE, *matchers)) + "}"


def rate(metric: str, *matchers: str, by: str = BY_VERSION) -> str:
    """Per-second rate of a counter, summed over pods and workers."""
    return f"sum by ({by}) (rate({metric}{selector(matchers)}[{RATE_WINDOW}]))"


def share(metric: str, part: str, *matchers: str, by: str = BY_VERSION) -> str:
    """Fraction of a counter's rate whose samples match `part`.

    0 rather than no data while nothing matched `part`: a healthy version
    shows 0 % errors instead of an empty panel.
    """
    whole = rate(metric, *matchers, by=by)
    return f"({rate(metric, part, *matchers, by=by)} or 0 * {whole}) / {whole}"


def quantile(q: float, histogram: str, *matchers: str, by: str = BY_VERSION) -> str:
    buckets = rate(f"{histogram}_bucket", *matchers, by=f"le, {by}")
    return f"histogram_quantile({q}, {buckets})"


def mean(histogram: str, *matchers: str, by: str = BY_VERSION) -> str:
    """Average observation of a histogram over the rate window."""
    total = rate(f"{histogram}_sum", *matchers, by=by)
    return f"{total} / {rate(f'{histogram}_count', *matchers, by=by)}"


def gauge(aggregation: str, metric: str, *matchers: str, by: str = BY_VERSION) -> str:
    return f"{aggregation} by ({by}) ({metric}{selector(matchers)})"

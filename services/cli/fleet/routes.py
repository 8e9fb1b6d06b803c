"""The gateway's routes table as a pure function of the fleet values file.

`make run` (through `modelfleet up`) writes its result to routes.yaml; the umbrella
chart's `modelfleet.routes` template renders the same table into a ConfigMap, and
a test checks the two agree. Only routing keys are copied; chart-only keys
(image, replicas, resources, ...) and service settings (batching, workers) are not.

    routes_from_values(values, "http://127.0.0.1:{port}", ports={("iris", "v1"): 8101})
    routes_from_values(values, "http://{prefix}{model}-{version}:8080", prefix="mf-")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_PORT", "routes_from_values", "version_weights"]

DEFAULT_PORT = 8080
TOTAL_WEIGHT = 100  # weights are percentages of a model's traffic
# Per-model keys copied verbatim into the routes table (the rest is not the gateway's).
ROUTE_KEYS = ("timeoutSeconds", "retries", "guard")


def version_weights(model: Mapping[str, Any]) -> dict[str, Any]:
    """`versions.<v>.weight` of one model entry (0 when a version sets none)."""
    return {v: (spec or {}).get("weight", 0) for v, spec in (model.get("versions") or {}).items()}


def _model_route(
    name: str, model: Mapping[str, Any], url_for: str, ports: Mapping[tuple[str, str], int],
    fields: Mapping[str, str],
) -> dict[str, Any]:  # fmt: skip
    weights = version_weights(model)
    if sum(weights.values()) != TOTAL_WEIGHT:  # the chart's validateValues says the same
        listed = ", ".join(f"{v}={w}" for v, w in weights.items())
        raise ValueError(
            f"{name}: weights must sum to {TOTAL_WEIGHT}, they sum to {sum(weights.values())} ({listed})"
        )
    versions = {}
    for version, weight in weights.items():
        port = ports.get((name, version), DEFAULT_PORT)
        url = url_for.format(model=name, version=version, port=port, **fields)
        versions[version] = {"url": url, "weight": weight}
    route: dict[str, Any] = {"versions": versions}
    route.update({key: model[key] for key in ROUTE_KEYS if key in model})
    if model.get("stickyHeader"):
        route["stickyHeader"] = model["stickyHeader"]
    shadow = model.get("shadow") or {}
    if shadow.get("version"):  # "" means no shadow
        route["shadow"] = dict(shadow)
    return route


def routes_from_values(
    values: Mapping[str, Any],
    url_template: str,
    *,
    ports: Mapping[tuple[str, str], int] | None = None,
    **fields: str,
) -> dict[str, Any]:
    """The routes.yaml content for every model in `values`.

    `url_template` is formatted per version with `model`, `version`, `port`
    (from `ports[(model, version)]`, else 8080) and any extra `fields`.
    Raises ValueError when a model's weights do not sum to 100.
    """
    models = values.get("models") or {}
    return {
        "models": {
            name: _model_route(name, model or {}, url_template, ports or {}, fields)
            for name, model in models.items()
        }
    }

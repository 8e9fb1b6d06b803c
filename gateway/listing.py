"""`GET /models`: the routes table as the gateway sees it right now.

Readiness is probed live (each version's `/readyz`, concurrently, short timeout),
so the listing tells an operator what a request would meet at this moment.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .client import Client
from .fleet import Fleet, Snapshot, weight_variant
from .probe import is_ready
from .routes import ModelRoute

__all__ = ["describe_fleet"]


def _version(
    fleet: Fleet, snapshot: Snapshot, model: str, route: ModelRoute, version: str, ready: bool
) -> dict[str, Any]:
    target = route.versions[version]
    guard = snapshot.guard.status(model, version)
    return {
        "version": version,
        "url": target.base_url,
        "weight": target.weight,
        "role": weight_variant(route, version),
        "ready": ready,
        "ejected": fleet.ejector.ejected(target.base_url),
        "guard": {
            "state": guard.state,
            "requests": guard.requests,
            "errors": guard.errors,
            "errorRate": round(guard.error_rate, 4),
        },
    }


async def describe_fleet(
    fleet: Fleet, client: Client, timeout: float, max_body_bytes: int
) -> dict[str, Any]:
    """Every model with its versions: weight, url, role, readiness, ejection, guard state;
    and the gateway's own body limit (a client checks uploads against it and the model's)."""
    snapshot = fleet.current
    models = snapshot.routes.table.models
    pairs = [(m, v) for m in sorted(models) for v in models[m].known_versions]
    probes = [is_ready(client, models[m].versions[v].base_url, timeout) for m, v in pairs]
    readiness = dict(zip(pairs, await asyncio.gather(*probes), strict=True))
    listed = []
    for name in sorted(models):
        route = models[name]
        settings = route.model_dump(mode="json", exclude={"versions"})
        versions = [
            _version(fleet, snapshot, name, route, v, readiness[(name, v)])
            for v in route.known_versions
        ]
        listed.append({"name": name, **settings, "versions": versions})
    routes = {"sha256": snapshot.routes.sha256, "loadedAt": snapshot.loaded_at.isoformat()}
    return {"routes": routes, "limits": {"maxBodyBytes": max_body_bytes}, "models": listed}

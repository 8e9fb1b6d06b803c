"""The live routing state: the current routes table with its guard, swapped atomically.

A request takes one `Snapshot` at its start and uses it to the end, so a reload
in the middle of a request never mixes two tables. Installing a table is a single
attribute assignment on the event loop: no request ever sees half a table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .ejection import Ejector
from .errors import NotFound, NotReady
from .guard import CanaryGuard, GuardStatus
from .holds import read_holds, write_holds
from .metrics import GatewayMetrics
from .routes import LoadedRoutes, ModelRoute, RoutesError, load_routes
from .routing import Variant, role_of

__all__ = ["Fleet", "Snapshot"]

logger = logging.getLogger("gateway.fleet")


@dataclass(frozen=True)
class Snapshot:
    routes: LoadedRoutes
    guard: CanaryGuard
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def route(self, model: str) -> ModelRoute:
        """The model's route; NotFound listing the known models otherwise."""
        route = self.routes.table.models.get(model)
        if route is None:
            known = sorted(self.routes.table.models)
            message = f"unknown model {model!r}; known models: {', '.join(known) or 'none'}"
            raise NotFound(message, models=known)
        return route


def weight_variant(route: ModelRoute, version: str) -> Variant:
    """How a version takes part: stable, canary, or shadow (copies only)."""
    if route.versions[version].weight == 0 and route.shadow and route.shadow.version == version:
        return "shadow"
    return role_of(route, version) if version in route.weights else "canary"


class Fleet:
    def __init__(
        self, metrics: GatewayMetrics, ejector: Ejector, holds_file: Path | None = None
    ) -> None:
        """`holds_file`: where the guard's holds outlive a restart (None: memory only)."""
        self.metrics = metrics
        self.ejector = ejector
        self._holds_file = holds_file
        self._current: Snapshot | None = None

    @property
    def current(self) -> Snapshot:
        if self._current is None:
            raise NotReady("no routes table loaded yet", headers={"Retry-After": "1"})
        return self._current

    @property
    def ready(self) -> bool:
        return self._current is not None

    def install(self, loaded: LoadedRoutes) -> None:
        """Swap in a validated table with a fresh guard, which re-admits aborted canaries
        unless the holds file recorded them for this very table (a restart)."""
        held = read_holds(self._holds_file, loaded.sha256) if self._holds_file else {}
        guard = CanaryGuard(loaded.table, self._aborted, held=held)
        self._current = Snapshot(loaded, guard)
        self.metrics.route_weight.clear()
        self.metrics.canary_aborted.clear()
        for model, route in loaded.table.models.items():
            for version, target in route.versions.items():
                variant = weight_variant(route, version)
                self.metrics.route_weight.labels(model, version, variant).set(target.weight)
                self.metrics.canary_aborted.labels(model, version).set(0)
        for model, version in guard.aborted():
            self.metrics.canary_aborted.labels(model, version).set(1)
            logger.warning(
                "canary still held by the guard, as before the restart",
                extra={"model": model, "version": version},
            )
        self._save_holds()

    def _save_holds(self) -> None:
        if self._holds_file is not None and self._current is not None:
            snapshot = self._current
            write_holds(self._holds_file, snapshot.routes.sha256, snapshot.guard.aborted())

    def reload(self, path: Path) -> bool:
        """Load `path` if it changed; keep the current table when it is invalid."""
        try:
            loaded = load_routes(path)
        except RoutesError as exc:
            self.metrics.reloads.labels("invalid").inc()
            logger.warning(
                "routes file rejected, keeping the last good table",
                extra={"file": str(path), "reason": str(exc)},
            )
            return False
        if self._current and self._current.routes.sha256 == loaded.sha256:
            return False
        self.install(loaded)
        self.metrics.reloads.labels("success").inc()
        logger.info(
            "routes table installed",
            extra={
                "file": str(path),
                "sha256": loaded.sha256,
                "models": sorted(loaded.table.models),
            },
        )
        return True

    def _aborted(self, model: str, version: str, status: GuardStatus) -> None:
        self.metrics.canary_aborted.labels(model, version).set(1)
        self._save_holds()
        logger.warning(
            "canary aborted by the guard: no more routed traffic until the routes file changes",
            extra={
                "model": model,
                "version": version,
                "requests": status.requests,
                "errors": status.errors,
                "error_rate": round(status.error_rate, 4),
            },
        )

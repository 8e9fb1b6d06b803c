"""The routes table: a pydantic model of routes.yaml, parsed and validated in one place.

```yaml
models:
  iris:
    versions:
      v1: {url: "http://iris-v1:8080", weight: 90}
      v2: {url: "http://iris-v2:8080", weight: 10}
    stickyHeader: X-User-Id                 # optional
    shadow: {version: v3, percent: 100}     # optional
    timeoutSeconds: 5
    retries: 1
    guard: {enabled: true, maxErrorRate: 0.2, windowSeconds: 60, minRequests: 20}
```

Weights are relative (a model's weights usually sum to 100). Unknown keys are
rejected, so a typo in an edit keeps the last good table instead of silently
dropping a setting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "GuardRoute",
    "LoadedRoutes",
    "ModelRoute",
    "RouteTable",
    "RoutesError",
    "ShadowRoute",
    "VersionRoute",
    "load_routes",
    "parse_routes",
    "stable_version",
    "version_order",
]

VERSION_PATTERN = r"^v[0-9]+$"
MODEL_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
HEADER_PATTERN = r"^[A-Za-z0-9-]{1,64}$"

Version = Annotated[str, Field(pattern=VERSION_PATTERN)]
ModelName = Annotated[str, Field(pattern=MODEL_PATTERN)]


def version_order(version: str) -> int:
    """`v10` sorts after `v9`: versions compare by their number."""
    return int(version[1:])


def stable_version(weights: Mapping[str, float]) -> str:
    """The highest weight wins; ties go to the lowest version number."""
    return min(weights, key=lambda v: (-weights[v], version_order(v)))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VersionRoute(_Strict):
    url: HttpUrl
    weight: float = Field(ge=0, le=10_000)

    @field_validator("url")
    @classmethod
    def _plain_http(cls, url: HttpUrl) -> HttpUrl:
        # In-cluster calls: TLS, where wanted, is the service mesh's, below plain HTTP.
        if url.scheme != "http":
            raise ValueError("the gateway reaches model services over http:// only")
        return url

    @cached_property  # the model is frozen; every routed request asks
    def base_url(self) -> str:
        """The service root without a trailing slash, ready for path joining."""
        return str(self.url).rstrip("/")


class ShadowRoute(_Strict):
    version: Version
    percent: float = Field(ge=0, le=100)


class GuardRoute(_Strict):
    enabled: bool = False
    maxErrorRate: float = Field(default=0.2, gt=0, le=1)
    windowSeconds: float = Field(default=60, gt=0, le=3600)
    minRequests: int = Field(default=20, ge=1, le=1_000_000)


class ModelRoute(_Strict):
    versions: dict[Version, VersionRoute] = Field(min_length=1)
    stickyHeader: str | None = Field(default=None, pattern=HEADER_PATTERN)
    shadow: ShadowRoute | None = None
    timeoutSeconds: float = Field(default=30, gt=0, le=600)
    retries: int = Field(default=1, ge=0, le=5)
    guard: GuardRoute = GuardRoute()

    @model_validator(mode="after")
    def _consistent(self) -> ModelRoute:
        if not any(v.weight > 0 for v in self.versions.values()):
            raise ValueError("at least one version needs a weight above 0")
        if self.shadow and self.shadow.version not in self.versions:
            known = ", ".join(self.known_versions)
            raise ValueError(f"shadow version {self.shadow.version!r} is not listed ({known})")
        return self

    @property
    def known_versions(self) -> list[str]:
        return sorted(self.versions, key=version_order)

    @cached_property  # the model is frozen; every routed request asks
    def weights(self) -> Mapping[str, float]:
        """Versions that receive routed traffic, with their weights (read-only: shared
        by every request, which `routing.pool` hands on as it is)."""
        return MappingProxyType(
            {name: v.weight for name, v in self.versions.items() if v.weight > 0}
        )

    @cached_property
    def stable(self) -> str:
        """The stable version: the highest weight wins; ties go to the lowest number."""
        return stable_version(self.weights)


class RouteTable(_Strict):
    models: dict[ModelName, ModelRoute]


class RoutesError(ValueError):
    """A routes file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class LoadedRoutes:
    table: RouteTable
    sha256: str


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_routes(text: str | bytes) -> RouteTable:
    """Parse routes.yaml text; raise `RoutesError` naming the offending key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutesError(f"not valid YAML: {exc}") from exc
    try:
        return RouteTable.model_validate(data)
    except ValidationError as exc:
        raise RoutesError(_describe(exc)) from exc


def load_routes(path: Path) -> LoadedRoutes:
    """Read and validate a routes file (symlinks followed, as ConfigMap mounts use them)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RoutesError(f"cannot read {path}: {exc.strerror}") from exc
    return LoadedRoutes(table=parse_routes(raw), sha256=hashlib.sha256(raw).hexdigest())

"""Handles on the real processes gateway tests drive: upstream stand-ins and gateways."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.processes import (
    Server,
    python_module,
    wait_until,
)

VERSIONS = ("v1", "v2", "v3")
Routes = dict[str, Any]


@dataclass
class Upstream:
    server: Server
    version: str

    @property
    def url(self) -> str:
        return self.server.url

    def control(self, **behaviour: Any) -> None:
        """Change how this version answers (see tests/gateway/upstream.py::Control)."""
        httpx.post(f"{self.url}/_control", json=behaviour, timeout=5).raise_for_status()

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/_stats", timeout=5).json())


@dataclass
class Gateway:
    server: Server
    routes_file: Path
    headers: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def models(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/models", headers=self.headers, timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def write_routes(self, routes: Routes | str) -> str:
        """Replace the routes file atomically (as `make run` does); returns its sha256."""
        text = routes if isinstance(routes, str) else yaml.safe_dump(routes, sort_keys=False)
        scratch = self.routes_file.with_name(".routes.yaml.tmp")
        scratch.write_text(text)
        os.replace(scratch, self.routes_file)
        return hashlib.sha256(text.encode()).hexdigest()

    def apply_routes(self, routes: Routes) -> None:
        """Write `routes` and wait until the gateway has installed them."""
        sha = self.write_routes(routes)
        wait_until(lambda: self.models()["routes"]["sha256"] == sha, 10, "routes reload")


def upstream_argv(port: int) -> list[str]:
    return python_module(
        "uvicorn", "--factory", "tests.gateway.upstream:create_upstream",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    )  # fmt: skip


def gateway_argv(_: int) -> list[str]:
    return python_module("gateway")


def model_routes(upstreams: dict[str, Upstream], weights: dict[str, float], **extra: Any) -> Routes:
    """A one-model (`iris`) routes table over the upstream stand-ins."""
    versions = {v: {"url": upstreams[v].url, "weight": w} for v, w in weights.items()}
    return {"models": {"iris": {"versions": versions, "timeoutSeconds": 5, **extra}}}


GatewayFactory = Callable[..., Gateway]

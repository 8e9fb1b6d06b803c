"""Shared fixtures: real model-service and gateway processes on 127.0.0.1.

`serve_model` starts gunicorn exactly as `modelfleet serve` and a pod do, on a
free loopback port (see `tests/processes.py`), and stops it and its workers
at teardown; `start_gateway` starts the gateway on a routes file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser

from services.cli.serve import gunicorn_command, serve_environment
from services.runtime.registry import Registry
from tests.browser import chromium
from tests.gateway.harness import Gateway, GatewayFactory, Routes, gateway_argv
from tests.processes import Server, free_port, launch, stop_server, wait_ready

ServeModel = Callable[..., Server]


@pytest.fixture(scope="session")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with every model's seed versions (read-only for tests).

    `make test` points MODELFLEET_TEST_REGISTRY at the one `make models` built;
    otherwise the seed versions are published into a temporary one.
    """
    given = os.environ.get("MODELFLEET_TEST_REGISTRY")
    if given:
        return Path(given)
    root = tmp_path_factory.mktemp("registry")
    subprocess.run(
        [sys.executable, "-m", "services.cli", "models", "--ensure", "--registry", str(root)],
        check=True, capture_output=True,
    )  # fmt: skip
    return root


@pytest.fixture
def scratch_registry(registry_root: Path, tmp_path: Path) -> Callable[..., Registry]:
    """A writable copy of the registry holding just the named models."""

    def copy(*models: str) -> Registry:
        root = tmp_path / "registry"
        for model in models:
            shutil.copytree(registry_root / model, root / model)
        return Registry(root)

    return copy


def _serve_factory(log_dir: Path, registry_root: Path, started: list[Server]) -> ServeModel:
    numbers = count()

    def serve(
        model: str,
        version: str = "v1",
        *,
        registry: Path | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        wait: str | None = "/readyz",
        timeout: float = 120,
    ) -> Server:
        port = free_port()
        environment = serve_environment(
            model, version, port, host="127.0.0.1", workers=workers,
            registry=registry or registry_root,
        )  # fmt: skip
        name = f"{model}-{version}-{next(numbers)}"
        server = launch(
            name, lambda _: gunicorn_command(), log_dir,
            env={"HF_HUB_OFFLINE": "1", **environment, **(env or {})}, port=port,
        )  # fmt: skip
        started.append(server)
        return server if wait is None else wait_ready(server, wait, timeout)

    return serve


@pytest.fixture
def serve_model(tmp_path: Path, registry_root: Path) -> Iterator[ServeModel]:
    """Start model services for one test; all are stopped at teardown."""
    started: list[Server] = []
    yield _serve_factory(tmp_path, registry_root, started)
    for server in started:
        stop_server(server)


@pytest.fixture(scope="module")
def serve_model_module(
    tmp_path_factory: pytest.TempPathFactory, registry_root: Path
) -> Iterator[ServeModel]:
    """Like `serve_model`, shared by the tests of one module."""
    started: list[Server] = []
    yield _serve_factory(tmp_path_factory.mktemp("services"), registry_root, started)
    for server in started:
        stop_server(server)


@pytest.fixture(scope="module")
def client(service: Server) -> Iterator[httpx.Client]:
    """An HTTP client for the module's `service` fixture (the model service it tests)."""
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def start_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayFactory]:
    """Start gateways for a module: `start_gateway(routes, env={...}, headers={...})`."""
    started: list[Server] = []

    def start(routes: Routes, env: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> Gateway:  # fmt: skip
        folder = tmp_path_factory.mktemp("gateway")
        routes_file = folder / "routes" / "routes.yaml"
        routes_file.parent.mkdir()
        routes_file.write_text(yaml.safe_dump(routes))
        port = free_port()
        settings = {
            "MODELFLEET_ROUTES_FILE": str(routes_file),
            "MODELFLEET_SERVER__HOST": "127.0.0.1",
            "MODELFLEET_SERVER__PORT": str(port),
            **(env or {}),
        }
        server = launch("gateway", gateway_argv, folder, settings, port=port)
        started.append(server)
        return Gateway(wait_ready(server, timeout=30), routes_file, headers or {})

    yield start
    for server in started:
        stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for one module. Playwright's sync API runs one instance at a time
    and keeps an event loop running while it lives (so `asyncio.run` in a later module
    would fail): it must not outlive its module."""
    with chromium() as launched:
        yield launched

"""Fixtures: real upstream stand-ins (uvicorn) and real gateway processes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.processes import launch, stop_server, wait_ready

from .harness import VERSIONS, Upstream, upstream_argv


@pytest.fixture(scope="session")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Upstream]]:
    logs = tmp_path_factory.mktemp("upstreams")
    servers = [
        launch(f"upstream-{v}", upstream_argv, logs, {"UPSTREAM_VERSION": v}) for v in VERSIONS
    ]
    try:
        yield {s.env["UPSTREAM_VERSION"]: Upstream(wait_ready(s), s.env["UPSTREAM_VERSION"])
               for s in servers}  # fmt: skip
    finally:
        for server in servers:
            stop_server(server)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client for sequential calls (a new client per call costs an SSL context)."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture(autouse=True)
def _healthy_upstreams(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with all stand-ins answering normally, and leaves them so:
    the next module's fixtures, set up before this reset, use them too."""
    if "upstreams" not in request.fixturenames:
        yield
        return
    upstreams = request.getfixturevalue("upstreams").values()
    for upstream in upstreams:
        upstream.control()
    yield
    for upstream in upstreams:
        upstream.control()

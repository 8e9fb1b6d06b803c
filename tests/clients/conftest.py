"""One local fleet (`modelfleet up` on the shipped values file, as `make run` serves it)
for the clients nobody here wrote: tritonclient and schemathesis."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.processes import ROOT, Server, all_ready, launch_stack, stop_stack, wait_until

VALUES = ROOT / "charts/modelfleet/values.yaml"
MODELS: dict[str, list[str]] = {
    model: list(route["versions"])
    for model, route in yaml.safe_load(VALUES.read_text())["models"].items()
}
"""Model -> its versions, as the values file (and so the fleet) serves them."""


@dataclass(frozen=True)
class Fleet:
    gateway: str
    services: dict[str, dict[str, str]]
    """Model -> version -> the URL of that version's own service."""


@pytest.fixture(scope="package")
def fleet(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Iterator[Fleet]:
    folder = tmp_path_factory.mktemp("fleet")
    # A copy, so that no request (a fuzzed training job, say) can publish into the real one.
    registry = shutil.copytree(registry_root, folder / "registry")
    server, marker = launch_stack(folder, VALUES, registry)
    try:
        wait_until(lambda: _up(server), 300, "the fleet of the values file")
        wait_until(lambda: all_ready(server.url), 60, "every version ready")
        listing = httpx.get(f"{server.url}/models", timeout=10).json()["models"]
        services = {m["name"]: {v["version"]: v["url"] for v in m["versions"]} for m in listing}
        yield Fleet(server.url, services)
    finally:
        stop_stack(server, marker)


def _up(server: Server) -> bool:
    if server.process.poll() is not None:
        raise RuntimeError(f"the fleet stopped:\n{server.output()}")
    return "modelfleet is up" in server.output()

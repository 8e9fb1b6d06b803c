"""The `modelfleet` command line, run as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from services.runtime.registry import Registry
from tests.processes import ROOT, launch, wait_ready

MODELFLEET = str(ROOT / ".venv" / "bin" / "modelfleet")


def modelfleet(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [MODELFLEET, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_concurrent_trainings_publish_two_distinct_complete_versions(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("iris")
    before = registry.versions("iris")
    runs = [modelfleet("train", "iris", "--registry", str(registry.root)) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    new = sorted(set(registry.versions("iris")) - set(before))
    assert new == ["v3", "v4"]
    for version in new:
        _, manifest = registry.open("iris", version)  # complete and intact
        assert 0.9 <= manifest.metrics["accuracy"] <= 1.0
        assert manifest.parent in before + new


def test_models_lists_every_version_with_its_metrics(registry_root: Path) -> None:
    out, _ = modelfleet("models", "--registry", str(registry_root)).communicate(timeout=60)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "VERSION", "PARENT"]
    iris = [line.split() for line in lines if line.startswith("iris")]
    assert [row[1] for row in iris][:2] == ["v1", "v2"]
    assert all("accuracy=" in line for line in lines if line.startswith("iris"))


def test_train_with_an_unknown_recipe_fails_clearly(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("iris")
    run = modelfleet("train", "iris", "--recipe", "magic", "--registry", str(registry.root))
    _, err = run.communicate(timeout=60)
    assert run.returncode != 0 and "unknown iris recipe 'magic'" in err
    assert registry.versions("iris") == ["v1", "v2"]


def test_serve_runs_one_version_under_gunicorn_and_stops_on_sigterm(
    registry_root: Path, tmp_path: Path
) -> None:
    def argv(port: int) -> list[str]:
        return [MODELFLEET, "serve", "iris", "--version", "v2", "--port", str(port),
                "--workers", "2", "--registry", str(registry_root)]  # fmt: skip

    server = wait_ready(launch("serve", argv, tmp_path))
    try:
        body = httpx.get(server.url + "/v1/models/iris").json()
        assert (body["name"], body["version"]) == ("iris", "v2")
    finally:
        os.killpg(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=40) == 0
    assert "Booting worker" in server.output()


def test_serve_rejects_a_malformed_version() -> None:
    run = modelfleet("serve", "iris", "--version", "latest")
    _, err = run.communicate(timeout=30)
    assert run.returncode == 2 and "'latest' is not a valid version" in err


def test_train_refuses_a_model_that_is_imported_not_trained(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("iris")
    run = modelfleet("train", "minilm", "--registry", str(registry.root))
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2 and "minilm has no training recipe" in err

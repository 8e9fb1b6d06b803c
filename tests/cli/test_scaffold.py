"""`modelfleet new`: a generated model package is served end to end as it stands."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

import services
from services.cli.scaffold import ScaffoldError, scaffold, values_snippet
from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.images import TAG, make_images_plan
from tests.processes import ROOT

SERVICES = Path(services.__path__[0])


@pytest.fixture
def generated() -> Iterator[str]:
    """A scaffolded package in the real services/ (the runtime imports services.<name>)."""
    name = f"scaffold{uuid.uuid4().hex[:8]}"
    try:
        run = subprocess.run(
            [str(ROOT / ".venv/bin/modelfleet"), "new", name],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert f"created {SERVICES / name}/" in run.stdout
        yield name
    finally:
        shutil.rmtree(SERVICES / name, ignore_errors=True)


def test_a_new_model_is_published_and_served_without_edits(
    generated: str, serve_model: ServeModel, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "registry")
    (manifest,) = importlib.import_module(f"services.{generated}").seed(registry)
    assert manifest.version == "v1"
    server = serve_model(generated, "v1", registry=registry.root)
    typed = httpx.post(
        f"{server.url}/v1/models/{generated}/predict", json={"instances": [{"x": 3}]}
    )
    assert typed.json()["predictions"] == [{"y": 3.0}]
    request = {"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1.5, -2]}]}
    oip = httpx.post(f"{server.url}/v2/models/{generated}/infer", json=request)
    assert oip.json()["outputs"][0]["data"] == [1.5, -2.0]
    assert (
        httpx.post(f"{server.url}/v1/models/{generated}/predict", json={"x": 1e9}).status_code
        == 422
    )


def test_make_images_builds_a_new_model_from_the_one_dockerfile(generated: str) -> None:
    # No Dockerfile is generated (the folder's files are listed below): Dockerfile.model
    # builds it, on the plain base until an extra of pyproject.toml names torch.
    (build,) = [b for b in make_images_plan() if b["MODEL"] == generated]
    assert build["file"] == "Dockerfile.model"
    assert build["BASE_IMAGE"] == f"modelfleet/base:{TAG}"
    assert build["tag"] == f"ghcr.io/modelfleet/{generated}:{TAG}"


def test_the_values_snippet_is_a_complete_models_entry() -> None:
    entry = yaml.safe_load(values_snippet("penguins"))["penguins"]
    assert entry["versions"]["v1"]["weight"] == 100
    assert entry["versions"]["v1"]["image"]["repository"] == "ghcr.io/modelfleet/penguins"
    shipped = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())["models"][
        "digits"
    ]
    assert {"timeoutSeconds", "retries", "guard", "versions"} <= entry.keys() & shipped.keys()


@pytest.mark.parametrize("name", ["Penguins", "pen-guins", "p", "runtime_x", "9lives"])
def test_names_that_cannot_be_a_package_and_a_kubernetes_name_are_refused(
    name: str, tmp_path: Path
) -> None:
    with pytest.raises(ScaffoldError, match="not a model name"):
        scaffold(name, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    scaffold("penguins", tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold("penguins", tmp_path)
    assert sorted(p.name for p in (tmp_path / "penguins").iterdir()) == [
        "__init__.py", "model.py", "schemas.py", "train.py",
    ]  # fmt: skip

"""The model images `make images` built from Dockerfile.model: each names its model,
sits on the base its extra needs, and the file refuses to build without its arguments."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from services.cli.main import model_packages
from tests.containers.podman import podman, podman_run, require_images
from tests.images import TAG, base_of
from tests.processes import ROOT

MODELS = model_packages()


def image_of(model: str) -> str:
    return f"ghcr.io/modelfleet/{model}:{TAG}"


def inspect(image: str) -> dict:
    (found,) = json.loads(podman("image", "inspect", image))
    return found


@pytest.mark.parametrize("model", MODELS)
def test_a_model_image_is_labelled_with_its_model(model: str) -> None:
    require_images([image_of(model)])
    labels = inspect(image_of(model))["Config"]["Labels"]
    summary = importlib.import_module(f"services.{model}").__doc__.splitlines()[0]
    assert labels["org.opencontainers.image.title"] == f"modelfleet-{model}"
    assert labels["org.opencontainers.image.description"] == f"modelfleet {model}: {summary}"
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


@pytest.mark.parametrize("model", MODELS)
def test_a_model_image_is_built_on_the_base_its_extra_needs(model: str) -> None:
    base = base_of(model)
    require_images([image_of(model), base])
    layers = inspect(image_of(model))["RootFS"]["Layers"]
    base_layers = inspect(base)["RootFS"]["Layers"]
    assert layers[: len(base_layers)] == base_layers
    assert len(layers) > len(base_layers)


@pytest.mark.parametrize(
    ("build_args", "says"),
    [
        # The check's own line, not the echo of the step that holds it.
        (
            ["--build-arg", f"BASE_IMAGE=modelfleet/base:{TAG}"],
            r"^Dockerfile\.model needs --build-arg MODEL=",
        ),
        (["--build-arg", "MODEL=iris"], r'missing \\?"BASE_IMAGE\\?" build argument'),
    ],
    ids=["without-MODEL", "without-BASE_IMAGE"],
)
def test_dockerfile_model_refuses_to_build_without_an_argument(
    build_args: list[str], says: str, tmp_path: Path
) -> None:
    require_images([f"modelfleet/base:{TAG}"])
    # An empty context: the build must stop before it copies anything.
    done = podman_run(
        "build", "--pull=never", "--force-rm", "-f", str(ROOT / "Dockerfile.model"),
        *build_args, str(tmp_path), timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert re.search(says, output, re.MULTILINE), output

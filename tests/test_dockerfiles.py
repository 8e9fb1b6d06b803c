"""The images: hadolint-clean Dockerfiles, a non-root base, models built FROM it.

Images cannot be built here (no container engine), so the Dockerfiles are
checked statically: hadolint with .hadolint.yaml, plus the properties the
charts rely on (numeric non-root user, exec-form gunicorn entrypoint, the
registry path, a pinned CPU torch for torch models).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from services.cli.main import model_packages
from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
MODEL_DOCKERFILES = sorted(
    p for p in (ROOT / "services").glob("*/Dockerfile") if p.parent.name != "runtime"
)
DOCKERFILES = [ROOT / "Dockerfile.base", ROOT / "gateway" / "Dockerfile", *MODEL_DOCKERFILES]
TORCH_MODELS = {"digits", "minilm", "segment"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = (line.strip() for line in text.splitlines())
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    hadolint = require_tool("hadolint")
    command = [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(dockerfile)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_image_runs_as_the_numeric_non_root_user(dockerfile: Path) -> None:
    users = [args for name, args in instructions(dockerfile) if name == "USER"]
    assert users and users[-1] == "10001:10001"


def test_every_model_package_has_a_dockerfile_from_the_base() -> None:
    assert {p.parent.name for p in MODEL_DOCKERFILES} == set(model_packages())
    for dockerfile in [*MODEL_DOCKERFILES, ROOT / "gateway" / "Dockerfile"]:
        froms = [args for name, args in instructions(dockerfile) if name == "FROM"]
        assert froms == ["${BASE_IMAGE}"], dockerfile


def test_the_base_is_multi_stage_and_starts_gunicorn_with_the_runtime_config() -> None:
    steps = instructions(ROOT / "Dockerfile.base")
    froms = [a for n, a in steps if n == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime", "runtime AS torch"]
    assert (
        "ENTRYPOINT",
        '["gunicorn", "--config", "python:services.runtime.gunicorn_conf"]',
    ) in steps
    env = " ".join(a for n, a in steps if n == "ENV")
    assert "MODELFLEET_REGISTRY=/opt/modelfleet/registry" in env and "HOME=/tmp" in env


def test_torch_is_pinned_once_from_the_cpu_index_in_the_torch_stage() -> None:
    runs = [a for n, a in instructions(ROOT / "Dockerfile.base") if n == "RUN"]
    (torch,) = [r for r in runs if "torch" in r]
    assert re.findall(r"torch==[0-9.]+", torch) == ["torch==2.13.0"]
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch
    for dockerfile in DOCKERFILES[1:]:
        assert "torch==" not in dockerfile.read_text(), dockerfile


@pytest.mark.parametrize("dockerfile", MODEL_DOCKERFILES, ids=lambda p: p.parent.name)
def test_model_images_install_their_extra_and_carry_their_registry(dockerfile: Path) -> None:
    model = dockerfile.parent.name
    steps = instructions(dockerfile)
    assert ("RUN", f'pip install --no-cache-dir "/opt/modelfleet/src[{model}]"') in steps
    assert ("COPY", f"registry/{model} /opt/modelfleet/registry/{model}") in steps
    base = "modelfleet/base-torch" if model in TORCH_MODELS else "modelfleet/base"
    assert ("ARG", f"BASE_IMAGE={base}:0.1.0") in steps


def test_dockerignore_keeps_the_registry_and_drops_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", "tests", "charts"} <= ignored
    assert not {"registry", "services", "gateway", "pyproject.toml", "README.md"} & ignored

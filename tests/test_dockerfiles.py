"""The Dockerfiles: hadolint-clean, a non-root base, one Dockerfile for every model FROM it.

Static checks of what the charts and `make images` rely on (numeric non-root
user, exec-form gunicorn entrypoint, the registry path, every install from
constraints.txt, torch's CPU build, each model on the base its extra needs);
tests/containers builds and runs them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from services.cli.main import model_packages
from tests.images import TAG, base_of, make_images_plan
from tests.processes import ROOT
from tests.tools import require_tool

MODEL_DOCKERFILE = ROOT / "Dockerfile.model"
DOCKERFILES = [ROOT / "Dockerfile.base", ROOT / "gateway" / "Dockerfile", MODEL_DOCKERFILE]
LOCKED = "pip install --no-cache-dir -c /opt/modelfleet/src/constraints.txt"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, runs of blanks one space,
    comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = (" ".join(line.split()) for line in text.splitlines())
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


def test_models_and_the_gateway_build_from_a_base_image() -> None:
    for dockerfile in [MODEL_DOCKERFILE, ROOT / "gateway" / "Dockerfile"]:
        froms = [args for name, args in instructions(dockerfile) if name == "FROM"]
        assert froms == ["${BASE_IMAGE}"], dockerfile


def test_no_model_package_has_a_dockerfile_of_its_own() -> None:
    assert sorted(ROOT.glob("services/*/Dockerfile*")) == []


def test_make_images_builds_every_model_package_from_dockerfile_model_on_its_base() -> None:
    plan = make_images_plan()
    assert [build["MODEL"] for build in plan] == model_packages()
    for build in plan:
        model = build["MODEL"]
        assert build == {
            "file": "Dockerfile.model",
            "MODEL": model,
            "BASE_IMAGE": base_of(model),
            "tag": f"ghcr.io/modelfleet/{model}:{TAG}",
        }
    # Both bases are in use: base_of tells the torch models apart.
    assert {b["BASE_IMAGE"] for b in plan} == {
        f"modelfleet/base:{TAG}",
        f"modelfleet/base-torch:{TAG}",
    }


def test_the_base_is_multi_stage_and_starts_gunicorn_with_the_runtime_config() -> None:
    steps = instructions(ROOT / "Dockerfile.base")
    froms = [a for n, a in steps if n == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime", "runtime AS torch"]
    assert (
        "ENTRYPOINT",
        '["gunicorn", "--config", "python:services.runtime.gunicorn_conf"]',
    ) in steps
    # No code in the bases: torch's layer never waits on a code change.
    assert not [a for n, a in steps if n == "COPY" and "services" in a]
    env = " ".join(a for n, a in steps if n == "ENV")
    assert "MODELFLEET_REGISTRY=/opt/modelfleet/registry" in env and "HOME=/tmp" in env


def test_torch_is_installed_once_in_the_torch_stage_from_its_cpu_index() -> None:
    steps = instructions(ROOT / "Dockerfile.base")
    (torch,) = [a for n, a in steps if n == "RUN" and "torch" in a]
    assert re.findall(r"torch==[0-9.+a-z]+", torch) == ["torch==2.13.0"]
    assert '${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"}' in torch
    assert ("ARG", "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu") in steps
    for dockerfile in DOCKERFILES[1:]:
        assert "torch==" not in dockerfile.read_text(), dockerfile


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_pip_install_takes_its_versions_from_the_lock(dockerfile: Path) -> None:
    installs = [a for n, a in instructions(dockerfile) if n == "RUN" and "pip install" in a]
    assert installs
    for install in installs:
        assert LOCKED in install, install


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_build_time_pip_settings_are_arguments_without_defaults(dockerfile: Path) -> None:
    # Unset unless `make images` passes them, and never ENV: they must not reach the image.
    steps = instructions(dockerfile)
    assert {("ARG", "PIP_CERT"), ("ARG", "PIP_FIND_LINKS")} <= set(steps)
    assert not [a for n, a in steps if n == "ENV" and re.search(r"PIP_(CERT|FIND_LINKS)", a)]


def test_the_model_image_installs_its_extra_and_carries_its_registry() -> None:
    steps = instructions(MODEL_DOCKERFILE)
    # Both arguments are required: no default to fall back on silently.
    assert {("ARG", "BASE_IMAGE"), ("ARG", "MODEL")} <= set(steps)
    assert steps.index(("ARG", "BASE_IMAGE")) < steps.index(("FROM", "${BASE_IMAGE}"))
    (install,) = [a for n, a in steps if n == "RUN" and "pip install" in a]
    assert install.startswith('if [ -z "$MODEL" ]; then')
    assert install.endswith(f'{LOCKED} "/opt/modelfleet/src[${{MODEL}}]"')
    assert ("COPY", "registry/${MODEL} /opt/modelfleet/registry/${MODEL}") in steps
    # The code comes last, so a code change rebuilds no dependency layer.
    copies = [a for n, a in steps if n == "COPY"]
    assert copies[-3:] == [
        "services/__init__.py /app/services/__init__.py",
        "services/runtime /app/services/runtime",
        "services/${MODEL} /app/services/${MODEL}",
    ]
    assert steps.index(("COPY", copies[-3])) > steps.index(("RUN", install))
    # The description is declared last: a docstring edit rebuilds no pip install.
    assert steps.index(("ARG", "DESCRIPTION")) > steps.index(
        ("RUN", "python -m compileall -q /app/services")
    )


def test_the_gateway_image_carries_no_model_service_code() -> None:
    copies = [a for n, a in instructions(ROOT / "gateway" / "Dockerfile") if n == "COPY"]
    assert copies == ["gateway /app/gateway"]


def test_dockerignore_keeps_the_registry_and_drops_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", "tests", "charts"} <= ignored
    assert not {"registry", "services", "gateway", "pyproject.toml", "README.md"} & ignored

"""What `make images` builds: one image per model package from Dockerfile.model, each
FROM the base its pyproject.toml extra needs, as pip reads that extra."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib

from packaging.requirements import Requirement

from tests.processes import ROOT
from tests.tools import require_tool

__all__ = ["TAG", "base_of", "make_images_plan"]

TAG = "0.1.0"
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def base_of(model: str) -> str:
    """modelfleet/base-torch when the model's extra needs torch, else modelfleet/base."""
    needs = {Requirement(r).name for r in EXTRAS.get(model, [])}
    return f"modelfleet/{'base-torch' if 'torch' in needs else 'base'}:{TAG}"


def make_images_plan() -> list[dict[str, str]]:
    """The model builds `make images` would run (`make -n`): each one's -f, build args and -t."""
    make = require_tool("make")
    # The Makefile's defaults, not the settings of a `make test` this runs under.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        [make, "--no-print-directory", "-n", "images"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    builds = [line for line in done.stdout.splitlines() if "--build-arg MODEL=" in line]
    return [
        {
            "file": re.search(r" -f (\S+)", line)[1],  # type: ignore[index]
            **dict(re.findall(r"--build-arg (MODEL|BASE_IMAGE)=(\S+)", line)),
            "tag": re.search(r" -t (\S+)", line)[1],  # type: ignore[index]
        }
        for line in builds
    ]

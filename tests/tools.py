"""Locate the external tools that some tests drive (helm, promtool, chromium, ...).

Outside CI a missing tool skips the test with the reason; with `CI=true` it fails,
so a CI machine that lacks an install step can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["require_tool", "unavailable"]

# Project-local binaries (`make .tools/.stamp`) and the venv's console scripts come
# before PATH: `/usr/bin/kubectl` may exist on one machine and not on a fresh one.
ROOT = Path(__file__).resolve().parents[1]
SEARCH_DIRS = (ROOT / ".tools" / "bin", ROOT / ".venv" / "bin")


def require_tool(name: str) -> str:
    """Return the absolute path of executable `name`, or skip (fail under CI) without it."""
    for directory in SEARCH_DIRS:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    unavailable(
        f"{name} is not installed: run `make test` (it installs the tools) or put it on PATH"
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the test for `reason`; under `CI=true`, fail it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)

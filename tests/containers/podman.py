"""The podman command line, with this project's settings (containers.conf).

Outside CI a machine whose podman cannot run containers, or that has not built
the images, skips the container tests with the reason; with `CI=true` that is
a failure, as for any missing tool.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache

from tests.processes import ROOT
from tests.tools import require_tool, unavailable

__all__ = ["podman", "podman_run", "require_images"]

CONF = ROOT / "containers.conf"


def podman_run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`podman args...`, whatever its exit status."""
    return subprocess.run(
        [require_tool("podman"), *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "CONTAINERS_CONF": str(CONF)}, check=False,
    )  # fmt: skip


def podman(*args: str, timeout: float = 120) -> str:
    """`podman args...`'s stdout; a RuntimeError with its stderr if it fails."""
    done = podman_run(*args, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@cache
def _cannot_run(image: str) -> str | None:
    """Why podman cannot start a container of `image` here; None when it can."""
    done = podman_run("run", "--rm", "--pull=never", "--entrypoint", "true", image, timeout=60)
    return done.stderr.strip() if done.returncode else None


def require_images(images: list[str]) -> None:
    """Skip (fail under CI) unless every image is built and podman can run them."""
    missing = [i for i in images if podman_run("image", "exists", i).returncode]
    if missing:
        unavailable(f"images not built: {', '.join(missing)} (run `make images`)")
    reason = _cannot_run(images[0])
    if reason:
        unavailable(f"podman cannot run containers here: {reason}")

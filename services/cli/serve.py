"""How one model service is launched: the gunicorn command line and its environment.

`modelfleet serve`, the local fleet and the tests start a version exactly as a
pod does: gunicorn with the runtime's config, configured by MODELFLEET_* variables.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["gunicorn_command", "serve_environment"]


def serve_environment(
    model: str, version: str, port: int, *, host: str, workers: int, registry: Path
) -> dict[str, str]:
    """The environment that configures one model service (also used by `up`)."""
    return {
        "MODELFLEET_MODEL": model,
        "MODELFLEET_VERSION": version,
        "MODELFLEET_REGISTRY": str(registry.resolve()),
        "MODELFLEET_SERVER__HOST": host,
        "MODELFLEET_SERVER__PORT": str(port),
        "MODELFLEET_SERVER__WORKERS": str(workers),
    }


def gunicorn_command() -> list[str]:
    return [
        sys.executable, "-m", "gunicorn",
        "--config", "python:services.runtime.gunicorn_conf",
        "services.runtime.app:create_app()",
    ]  # fmt: skip

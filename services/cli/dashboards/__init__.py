"""Grafana dashboards as code: `python -m services.cli.dashboards` writes them.

The JSON files in `charts/gateway/files/dashboards/` are the artifact the
gateway chart packages as ConfigMaps; this package is how they are made, and
a test fails when the committed files drift from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .catalog import DASHBOARDS

__all__ = ["DASHBOARDS", "DEFAULT_DIR", "render", "write_all"]

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "charts" / "gateway" / "files" / "dashboards"


def render(name: str) -> str:
    """The committed text of dashboard `name`: sorted keys, so diffs stay small."""
    return json.dumps(DASHBOARDS[name](), indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DASHBOARDS:
        path = directory / f"{name}.json"
        path.write_text(render(name))
        written.append(path)
    return written

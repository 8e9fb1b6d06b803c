"""`modelfleet new NAME`: a new model package that serves as soon as it is listed.

The generated `services/<name>/` follows the iris layout (schemas, model,
train with `seed`) and runs a trivial linear rule, so the whole path — make
models, the registry, typed and OIP endpoints, the gateway — works before the
author replaces the rule with a real model.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

__all__ = ["ScaffoldError", "scaffold", "values_snippet"]

MODULES = ("__init__.py", "schemas.py", "model.py", "train.py")
# A model name is a Python package name and a Kubernetes name part at once.
MODEL_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")


class ScaffoldError(ValueError):
    pass


def scaffold(name: str, services_dir: Path) -> Path:
    """Write `services_dir/<name>/` from the templates; refuse to overwrite."""
    if not MODEL_NAME.match(name):
        raise ScaffoldError(f"{name!r} is not a model name: 2-31 lowercase letters and digits")
    target = services_dir / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    target.mkdir(parents=True)
    cls = name.capitalize()
    templates = files("services.cli") / "templates"
    for module in MODULES:
        text = (templates / f"{module}.tmpl").read_text(encoding="utf-8")
        (target / module).write_text(text.format(name=name, cls=cls), encoding="utf-8")
    return target


def values_snippet(name: str) -> str:
    """The entry to add under `models:` in charts/modelfleet/values.yaml."""
    return (
        f"  {name}:\n"
        "    timeoutSeconds: 5\n"
        "    retries: 1\n"
        "    guard: {enabled: true, maxErrorRate: 0.2, windowSeconds: 60, minRequests: 20}\n"
        "    versions:\n"
        "      v1:\n"
        "        weight: 100\n"
        f'        image: {{repository: ghcr.io/modelfleet/{name}, tag: "0.1.0"}}\n'
    )

"""Imports point one way: the developer's tool -> runtime -> nothing of ours.

A model's image carries `services/runtime/` and its model package
(Dockerfile.model copies no more; the gateway's carries `gateway/` alone), so the
runtime and the models must never import the tool, and the gateway talks to
the services over HTTP only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.cli.main import TOOL_PACKAGES, model_packages
from tests.processes import ROOT


def imported_modules(folder: Path) -> set[tuple[Path, str]]:
    """Every absolute module a .py file under `folder` imports (relative ones resolved)."""
    found = set()
    for path in folder.rglob("*.py"):
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                found.add((path, module))
    return found


def offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path, module in imported_modules(folder)
        if any(module == f or module.startswith(f"{f}.") for f in forbidden)
    )


def test_the_runtime_never_imports_the_tool_or_the_gateway() -> None:
    assert offenders(ROOT / "services" / "runtime", ("services.cli", "gateway")) == []


@pytest.mark.parametrize("model", model_packages())
def test_a_model_package_imports_the_runtime_only(model: str) -> None:
    assert offenders(ROOT / "services" / model, ("services.cli", "gateway")) == []


def test_the_gateway_imports_nothing_from_services() -> None:
    assert offenders(ROOT / "gateway", ("services",)) == []


def test_model_packages_are_every_package_but_the_tool_and_the_runtime() -> None:
    packages = {p.parent.name for p in (ROOT / "services").glob("*/__init__.py")}
    assert set(model_packages()) == packages - TOOL_PACKAGES
    assert {"iris", "digits", "minilm"} <= set(model_packages())

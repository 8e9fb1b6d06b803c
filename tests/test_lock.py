"""constraints.txt, the lock every venv and image installs from, matches pyproject.toml.

`make lock` writes it (pip-compile over every extra); the venv and every
Dockerfile install with `-c constraints.txt`. These checks need no network: the
venv running the tests was installed from the lock, so its package metadata
says what each locked package needs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.processes import ROOT

LOCK = ROOT / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FIX = "run `make lock` and commit constraints.txt"


def locked() -> dict[str, Version]:
    """Pinned name -> version (comments, `# via` lines and markers dropped)."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            parsed = Requirement(requirement)
            (pin,) = parsed.specifier
            assert pin.operator == "==", f"{line!r} is not an exact pin: {FIX}"
            pins[canonicalize_name(parsed.name)] = Version(pin.version)
    return pins


def project_requirements() -> list[Requirement]:
    """The core dependencies and those of every extra (the lock covers them all)."""
    extras = PYPROJECT.get("optional-dependencies", {}).values()
    return [Requirement(r) for r in [*PYPROJECT["dependencies"], *(r for e in extras for r in e)]]


def applies(requirement: Requirement, extras: Iterable[str] = ()) -> bool:
    """Whether `requirement` is wanted on this platform (Linux, Python 3.11), for `extras`."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in ["", *extras])


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution `roots` need (with the extras asked of each), from installed metadata."""
    needed: dict[str, set[str]] = {}
    todo = [r for r in roots if applies(r)]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in needed and set(requirement.extras) <= needed[name]:
            continue
        needed[name] = needed.get(name, set()) | set(requirement.extras)
        dependencies = (Requirement(line) for line in metadata.requires(name) or [])
        todo += [d for d in dependencies if applies(d, needed[name])]
    return set(needed)


def test_every_dependency_of_pyproject_is_pinned_within_its_range() -> None:
    pins = locked()
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} (pyproject.toml) is not in constraints.txt: {FIX}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement}: {FIX}"
        )


def test_the_lock_holds_exactly_what_pyproject_needs() -> None:
    needed, pins = closure(project_requirements()), set(locked())
    assert not needed - pins, f"needed but not pinned: {sorted(needed - pins)}: {FIX}"
    assert not pins - needed, f"pinned but needed by nothing: {sorted(pins - needed)}: {FIX}"


def test_the_venv_is_installed_from_the_lock() -> None:
    for name, version in locked().items():
        assert Version(metadata.version(name)) == version, f"{name}: run `make .venv/.stamp`"


def test_torch_is_the_cpu_build_without_cuda_packages() -> None:
    pins = locked()
    assert pins["torch"] == Version("2.13.0+cpu")
    cuda = [name for name in pins if re.match(r"nvidia-|triton$", name)]
    assert not cuda, (
        f"CUDA packages in the lock (torch resolved from PyPI, not the CPU wheel): {cuda}"
    )

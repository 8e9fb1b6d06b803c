"""The model registry: immutable, hashed versions of each model's artifact.

Layout: `<root>/<model>/<version>/` with the artifact files and a
`manifest.json` naming every file's sha256. A version is written into a
staging directory, hashed, then renamed into place under a per-model lock, so
it appears atomically, numbers never collide between concurrent publishers and
a crash mid-write leaves no half version behind. Versions are never modified.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .errors import RegistryError, VersionNotFound

__all__ = ["Manifest", "Registry"]

MANIFEST = "manifest.json"
LOCK = ".lock"
STAGING_PREFIX = ".staging-"
_VERSION = re.compile(r"^v([1-9][0-9]*)$")
_CHUNK = 1 << 20


class Manifest(BaseModel):
    name: str
    version: str
    framework: str
    created_at: datetime
    parent: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str]
    """Relative path -> sha256 hex of every artifact file."""

    @property
    def sha256(self) -> str:
        """One digest for the whole version: the hash of the sorted file hashes."""
        joined = "\n".join(f"{path} {digest}" for path, digest in sorted(self.files.items()))
        return hashlib.sha256(joined.encode()).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _artifact_files(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): sha256_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, model: str) -> list[str]:
        """Published versions of `model`, oldest first."""
        directory = self.root / model
        if not directory.is_dir():
            return []
        found = [p.name for p in directory.iterdir() if _VERSION.match(p.name) and p.is_dir()]
        return sorted(found, key=_version_number)

    def models(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def latest(self, model: str) -> str | None:
        versions = self.versions(model)
        return versions[-1] if versions else None

    def manifest(self, model: str, version: str) -> Manifest:
        path = self.root / model / version / MANIFEST
        if not path.is_file():
            if (self.root / model / version).is_dir():
                raise RegistryError(f"{model} {version} has no {MANIFEST}: incomplete version")
            known = ", ".join(self.versions(model)) or "none"
            raise VersionNotFound(f"{model} has no version {version!r} (published: {known})")
        try:
            return Manifest.model_validate_json(path.read_bytes())
        except ValueError as exc:
            raise RegistryError(f"{model} {version}: unreadable {MANIFEST}: {exc}") from exc

    def open(self, model: str, version: str) -> tuple[Path, Manifest]:
        """The verified artifact directory of one version.

        Raises RegistryError when a file is missing, extra or altered.
        """
        manifest = self.manifest(model, version)
        directory = self.root / model / version
        actual = _artifact_files(directory)
        missing = sorted(set(manifest.files) - set(actual))
        extra = sorted(set(actual) - set(manifest.files))
        altered = sorted(
            f for f in manifest.files if f in actual and actual[f] != manifest.files[f]
        )
        problems = [
            f"{label}: {', '.join(names)}"
            for label, names in (("missing", missing), ("unexpected", extra), ("altered", altered))
            if names
        ]
        if problems:
            raise RegistryError(
                f"{model} {version} does not match its manifest ({'; '.join(problems)})"
            )
        return directory, manifest

    @contextmanager
    def staging(self, model: str) -> Iterator[Path]:
        """A scratch directory on the registry's filesystem (so publish can rename it)."""
        parent = self.root / model
        parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def publish(
        self,
        model: str,
        staged: Path,
        *,
        framework: str,
        parent: str | None = None,
        metrics: dict[str, float] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Manifest:
        """Hash `staged` (a directory from `staging`) and move it in as the next version."""
        files = _artifact_files(staged)
        if not files:
            raise RegistryError(f"refusing to publish an empty artifact for {model}")
        with self._lock(model):
            version = f"v{max(map(_version_number, self.versions(model)), default=0) + 1}"
            manifest = Manifest(
                name=model,
                version=version,
                framework=framework,
                created_at=datetime.now(UTC),
                parent=parent,
                metrics=metrics or {},
                params=params or {},
                files=files,
            )
            (staged / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")
            staged.chmod(0o755)  # mkdtemp made it private; services may run as another user
            staged.rename(self.root / model / version)
        return manifest

    @contextmanager
    def _lock(self, model: str) -> Iterator[None]:
        path = self.root / model / LOCK
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _version_number(version: str) -> int:
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not a version: {version!r}")
    return int(match.group(1))

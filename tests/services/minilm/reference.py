"""Embeddings computed directly with `transformers`, the way the model card shows.

Tests compare what the service answers over HTTP with this, computed in the
test process from the same registry files: tokenizer truncation at the
sentence-transformers limit, mean pooling over the attention mask, L2 norm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

__all__ = ["Reference"]


class Reference:
    def __init__(self, path: Path) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_length = int(config["max_seq_length"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, each text in a forward pass of its own (no padding)."""
        return np.stack([self._embed_one(text) for text in texts])

    def _embed_one(self, text: str) -> np.ndarray:
        encoded = self.tokenizer(
            [text], truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self.model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
        return torch.nn.functional.normalize(pooled, dim=1)[0].numpy()

    def token_count(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"])

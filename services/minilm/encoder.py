"""Sentence embeddings with all-MiniLM-L6-v2, computed as sentence-transformers does.

Each text becomes word pieces with `[CLS]`/`[SEP]`, cut to `max_seq_length`
(256, from `sentence_bert_config.json`; the tokenizer itself allows 512, but
the model was trained on 256); the last hidden states are averaged over the
real tokens (attention mask) and L2-normalised.

A batch is tokenized once and run in as few padded forward passes as pay
off: texts are sorted by length and a new pass starts only where padding to
the next, longer text would more than double the work of the pass. One pass
costs a fixed read of every weight, so uniform batches always run as one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModel, AutoTokenizer

__all__ = ["Encoded", "Encoder", "plan_passes"]

MAX_PASS_TOKENS = 8192
"""Padded tokens per forward pass: bounds the attention memory of one pass."""
PASS_COST_TOKENS = 32
"""Padding worth less than this many tokens never justifies an extra pass."""


@dataclass(frozen=True)
class Encoded:
    vectors: np.ndarray
    """(texts, dimensions) float32, each row of unit length."""
    tokens: list[int]
    """Word pieces of each text, `[CLS]` and `[SEP]` included, before truncation."""
    truncated: list[bool]


class Encoder:
    """The tokenizer and transformer of one artifact directory; safe to share by threads."""

    def __init__(self, path: Path) -> None:
        self.max_length = int(
            json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
        )
        # A private copy of the fast tokenizer without truncation, so the full
        # length of every text is known before it is cut.
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._tokenizer = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._sep = int(tokenizer.sep_token_id)
        self._pad = int(tokenizer.pad_token_id)
        self._model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.dimensions = int(self._model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> Encoded:
        pieces = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        ids = [self._truncate(p) for p in pieces]
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        with torch.inference_mode():
            for indices in plan_passes([len(i) for i in ids], MAX_PASS_TOKENS):
                vectors[indices] = self._forward([ids[i] for i in indices]).numpy()
        return Encoded(
            vectors=vectors,
            tokens=[len(p) for p in pieces],
            truncated=[len(p) > self.max_length for p in pieces],
        )

    def _truncate(self, ids: list[int]) -> list[int]:
        # Same result as the tokenizer's own truncation: keep the head, end with [SEP].
        return ids if len(ids) <= self.max_length else [*ids[: self.max_length - 1], self._sep]

    def _forward(self, ids: list[list[int]]) -> torch.Tensor:
        lengths = np.array([len(row) for row in ids])
        mask = np.arange(lengths.max()) < lengths[:, None]
        padded = np.full(mask.shape, self._pad, dtype=np.int64)
        padded[mask] = np.concatenate(ids)
        input_ids = torch.from_numpy(padded)
        attention = torch.from_numpy(mask.astype(np.int64))
        hidden = self._model(
            input_ids=input_ids,
            attention_mask=attention,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        weights = attention.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def plan_passes(lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Group text indices into forward passes, shortest texts first.

    A pass holds texts of similar length: the next text starts a new pass when
    padding every text of the pass to its length would exceed `max_tokens`, or
    would add more padding than real tokens (and more than PASS_COST_TOKENS).
    """
    passes: list[list[int]] = []
    current: list[int] = []
    real = 0
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        length = lengths[index]
        padded = (len(current) + 1) * length
        waste = padded - real - length
        if current and (padded > max_tokens or waste > max(real + length, PASS_COST_TOKENS)):
            passes.append(current)
            current, real = [], 0
        current.append(index)
        real += length
    if current:
        passes.append(current)
    return passes

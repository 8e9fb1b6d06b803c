"""Sentence embeddings and answer selection with all-MiniLM-L6-v2 (transformers)."""

from .artifact import seed
from .model import MiniLMModel as Model

__all__ = ["Model", "seed"]

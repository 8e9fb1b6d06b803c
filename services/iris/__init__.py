"""The iris tabular classifier (scikit-learn)."""

from .model import IrisModel as Model
from .train import seed, train

__all__ = ["Model", "seed", "train"]

"""The workshop's penguin classifier (scikit-learn KNN), with query-parameter predict."""

from .model import PenguinsModel as Model
from .train import seed, train

__all__ = ["Model", "seed", "train"]

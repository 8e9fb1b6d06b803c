"""Handwritten digits (PyTorch CNN on scikit-learn's load_digits), retrainable from uploads."""

from .model import DigitsModel as Model
from .train import seed, train

__all__ = ["Model", "seed", "train"]

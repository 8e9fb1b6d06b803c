"""Semantic segmentation of digit scenes (a DeepLabV3-style PyTorch network)."""

from .model import SegmentModel as Model
from .train import seed, train

__all__ = ["Model", "seed", "train"]

"""Serving and fine-tuning the digits CNN (PyTorch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from services.runtime.imaging import MEDIA_TYPES, decode
from services.runtime.model import Model
from services.runtime.tensors import TensorSpec
from services.runtime.training import FineTune, Progress, Retrainable

from .data import SEED, as_uploaded, split
from .fitting import Schedule, evaluate, fit, probabilities
from .imaging import canonical
from .network import DigitsNet, load_network, save_network
from .schemas import MAX_INK, SIDE, DigitImage, DigitPrediction, Label, TrainOptions

__all__ = ["DigitsModel"]

REPLAY_FACTOR = 4
MIN_REPLAY = 256
"""Fine-tuning mixes in this many training-split images per upload (at least
MIN_REPLAY), so a few new images adjust the net without making it forget."""


class DigitsModel(Model[DigitImage, DigitPrediction], Retrainable):
    name = "digits"
    framework = "pytorch"
    Input = DigitImage
    Output = DigitPrediction
    raw_media_types = MEDIA_TYPES
    oip_inputs = (TensorSpec("pixels", "FP32", (-1, SIDE, SIDE)),)
    Label = Label
    TrainOptions = TrainOptions

    def prepare_thread(self) -> None:
        torch.set_num_threads(self.torch_threads)

    def load(self, path: Path) -> None:
        self.net: DigitsNet = load_network(path)

    def predict(self, batch: list[DigitImage]) -> list[DigitPrediction]:
        rows = probabilities(self.net, [image.pixels for image in batch])
        return [
            DigitPrediction(digit=int(row.argmax()), probabilities=[float(p) for p in row])
            for row in rows
        ]

    def preprocess(self, payload: bytes, media_type: str) -> DigitImage:
        pixels = np.clip(canonical(decode(payload, media_type)), 0.0, MAX_INK)
        return DigitImage(pixels=[round(float(p), 4) for p in pixels.flat])

    def fine_tune(self, task: FineTune, progress: Progress) -> dict[str, float]:
        torch.set_num_threads(self.torch_threads)
        net = load_network(task.parent)
        uploaded = np.array([image.pixels for image in task.examples], dtype=np.float32)
        labels = np.array(task.labels)
        replay_x, replay_y = _replay(len(uploaded))
        schedule = Schedule(epochs=task.options.epochs, learning_rate=task.options.learning_rate)
        fit(net, np.concatenate([uploaded, replay_x]), np.concatenate([labels, replay_y]),
            schedule, progress)  # fmt: skip
        save_network(net, task.output)
        uploaded_accuracy = float((probabilities(net, uploaded).argmax(axis=1) == labels).mean())
        return {
            **evaluate(net),
            "uploaded_accuracy": uploaded_accuracy,
            "uploaded_examples": float(len(uploaded)),
        }


def _replay(uploads: int) -> tuple[np.ndarray, np.ndarray]:
    """A sample of the training split, half raw and half rendered like uploads."""
    data = split()
    rng = np.random.default_rng(SEED + uploads)
    count = min(max(REPLAY_FACTOR * uploads, MIN_REPLAY), len(data.train_y))
    chosen = rng.choice(len(data.train_y), size=count, replace=False)
    pixels, labels = data.train_x[chosen], data.train_y[chosen]
    half = count // 2
    rendered = as_uploaded(pixels[half:], SEED + uploads)
    return np.concatenate([pixels[:half], rendered]), labels

"""The convolutional network and its artifact files.

Two 3x3 convolutions keep the 8x8 grid, one 2x2 pooling halves it, and two
dense layers classify: ~40k parameters, trained in seconds on one CPU core.
An artifact is `weights.pt` (a state dict, loaded with `weights_only=True` so
no pickled code runs) and `network.json` (the layer sizes to rebuild it).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from torch import nn

from .schemas import DIGITS, MAX_INK, SIDE

__all__ = ["WEIGHTS", "DigitsNet", "NetworkConfig", "load_network", "save_network", "to_tensor"]

WEIGHTS = "weights.pt"
CONFIG = "network.json"


class NetworkConfig(BaseModel):
    channels: tuple[int, int] = (16, 32)
    hidden: int = Field(64, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)


class DigitsNet(nn.Module):
    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        first, second = config.channels
        self.config = config
        self.features = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1), nn.ReLU(),
            nn.Conv2d(first, second, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(second * (SIDE // 2) ** 2, config.hidden), nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, DIGITS),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits `[n, 10]` for images `[n, 1, 8, 8]` scaled to 0..1."""
        return self.classifier(self.features(images))


def to_tensor(pixels: torch.Tensor | list[list[float]]) -> torch.Tensor:
    """Rows of 64 load_digits values (0..16) -> the network's `[n, 1, 8, 8]` input."""
    flat = torch.as_tensor(pixels, dtype=torch.float32)
    return flat.reshape(-1, 1, SIDE, SIDE) / MAX_INK


def save_network(net: DigitsNet, directory: Path) -> None:
    torch.save(net.state_dict(), directory / WEIGHTS)
    (directory / CONFIG).write_text(net.config.model_dump_json(indent=2) + "\n")


def load_network(directory: Path) -> DigitsNet:
    config = NetworkConfig.model_validate(json.loads((directory / CONFIG).read_text()))
    net = DigitsNet(config)
    net.load_state_dict(torch.load(directory / WEIGHTS, map_location="cpu", weights_only=True))
    return net.eval()

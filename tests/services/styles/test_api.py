"""The styles service over HTTP (real gunicorn): every style, blends, a style picture,
picture answers by Accept, OIP tensors, and precise refusals."""

from __future__ import annotations

import base64
import itertools

import httpx
import numpy as np
import pytest

from services.runtime.imaging import MAX_SIDE
from services.styles.names import STYLES
from tests.conftest import ServeModel
from tests.processes import Server
from tests.services.digits.images import png_header
from tests.services.styles.pictures import decoded, encoded, photo, upload

PREDICT = "/v1/models/styles/predict"
PNG = {"accept": "image/png"}
SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Small enough that all 26 styles take a couple of seconds on one core.
WIDTH, HEIGHT = 160, 96
PHOTO = photo(WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("styles", "v1")


def styled(client: httpx.Client, headers: dict[str, str] = PNG, **form: str) -> httpx.Response:
    response = client.post(PREDICT, files={"image": upload(PHOTO)}, data=form, headers=headers)
    assert response.status_code == 200, response.text
    return response


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference, in grey levels (0..255)."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_every_style_is_a_png_of_the_input_shape_unlike_the_input_and_each_other(
    client: httpx.Client,
) -> None:
    pictures = {}
    for style in STYLES:
        response = styled(client, style=style)
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(SIGNATURE)
        pictures[style] = decoded(response.content)
        assert pictures[style].shape == PHOTO.shape, style
        assert difference(pictures[style], PHOTO) > 10, style
    for (one, a), (other, b) in itertools.combinations(pictures.items(), 2):
        assert difference(a, b) > 5, (one, other)


def test_the_same_input_gives_the_same_bytes_as_png_or_as_a_json_data_url(
    client: httpx.Client,
) -> None:
    first, again = styled(client, style="starry-swirls"), styled(client, style="starry-swirls")
    assert first.content == again.content
    answer = styled(client, headers={}, style="starry-swirls")
    assert answer.headers["content-type"] == "application/json"
    (prediction,) = answer.json()["predictions"]
    assert prediction["style"] == "starry-swirls"
    head, data = prediction["image"].split(",", 1)
    assert head == "data:image/png;base64" and base64.b64decode(data) == first.content


@pytest.mark.parametrize(
    ("accept", "media_type", "signature"),
    [("image/jpeg", "image/jpeg", b"\xff\xd8\xff"), ("image/webp", "image/webp", b"RIFF"),
     ("image/*", "image/png", SIGNATURE), ("*/*", "application/json", b"{")],
)  # fmt: skip
def test_accept_picks_the_picture_format_and_json_is_the_default(
    client: httpx.Client, accept: str, media_type: str, signature: bytes
) -> None:
    response = styled(client, headers={"accept": accept}, style="bold-ink")
    assert response.headers["content-type"] == media_type
    assert response.headers["vary"] == "Accept" and response.content.startswith(signature)


def test_a_large_picture_is_scaled_down_to_max_side_with_its_aspect_kept(
    client: httpx.Client,
) -> None:
    big = photo(1000, 600)
    response = client.post(
        PREDICT, files={"image": upload(big)}, data={"style": "twilight", "max_side": "256"},
        headers=PNG,
    )  # fmt: skip
    assert response.status_code == 200
    assert decoded(response.content).shape == (154, 256, 3)


def test_a_photo_stored_sideways_is_restyled_upright(client: httpx.Client) -> None:
    # Orientation 6: the camera stored the picture turned; viewers rotate it 90 degrees.
    sideways = ("phone.jpg", encoded(PHOTO, "JPEG", orientation=6), "image/jpeg")
    response = client.post(
        PREDICT, files={"image": sideways}, data={"style": "twilight"}, headers=PNG
    )
    assert response.status_code == 200
    assert decoded(response.content).shape == (WIDTH, HEIGHT, 3)


def test_a_blend_differs_from_its_parts_and_weights_by_index_equal_weights_by_name(
    client: httpx.Client,
) -> None:
    by_name = styled(client, weights='{"bold-ink": 1, "red-blocks": 3}')
    by_index = [0.0] * len(STYLES)
    by_index[STYLES.index("bold-ink")], by_index[STYLES.index("red-blocks")] = 0.25, 0.75
    assert styled(client, weights=str(by_index)).content == by_name.content
    blend = decoded(by_name.content)
    for part in ("bold-ink", "red-blocks"):
        assert difference(blend, decoded(styled(client, style=part).content)) > 5


def test_a_second_picture_gives_its_style(client: httpx.Client) -> None:
    def copied(name: str) -> np.ndarray:
        files = {"image": upload(PHOTO), "style_picture": upload(photo(200, 200, name))}
        response = client.post(PREDICT, files=files, headers=PNG)
        assert response.status_code == 200, response.text
        return decoded(response.content)

    flower, china = copied("flower.jpg"), copied("china.jpg")
    assert flower.shape == PHOTO.shape and difference(flower, PHOTO) > 10
    assert difference(flower, china) > 5
    assert difference(flower, decoded(styled(client, style="pastel-wash").content)) > 5


def detail(response: httpx.Response) -> list[dict]:
    assert response.status_code == 422, response.text
    return list(response.json()["detail"])


@pytest.mark.parametrize(
    ("part", "message"),
    [(("notes.png", b"these are words, not pixels", "image/png"), "not an image"),
     (("cut.png", encoded(PHOTO)[:600], "image/png"), "truncated"),
     (("empty.png", b"", "image/png"), "empty"),
     (("huge.png", png_header(MAX_SIDE + 1, 64), "image/png"), "each side must be"),
     (("tiny.png", encoded(photo(20, 20)), "image/png"), "too small")],
    ids=["not-an-image", "truncated", "empty", "too-large", "too-small"],
)  # fmt: skip
def test_a_bad_picture_is_a_422_naming_the_field_and_the_file(
    client: httpx.Client, part: tuple[str, bytes, str], message: str
) -> None:
    response = client.post(PREDICT, files={"image": part}, data={"style": "bold-ink"})
    (error,) = detail(response)
    assert message in error["msg"]
    if message != "too small":  # decoding failures name the field and the file
        assert error["loc"] == ["body", "image"] and part[0] in error["msg"]


def test_an_unknown_style_is_a_422_listing_the_known_ones(client: httpx.Client) -> None:
    response = client.post(PREDICT, files={"image": upload(PHOTO)}, data={"style": "mosaic"})
    (error,) = detail(response)
    assert error["loc"] == ["body", "style"]
    assert all(f"'{name}'" in error["msg"] for name in STYLES)


@pytest.mark.parametrize(
    ("form", "loc", "message"),
    [({"weights": '{"bold-ink": 0, "twilight": 0}'}, ["body", "weights"], "sum to 0"),
     ({"weights": '{"bold-ink": -1}'}, ["body", "weights", "by_name", "bold-ink"], "greater than"),
     ({"weights": "{not json"}, ["body", "weights"], "JSON"),
     ({}, ["body"], "exactly one of style, weights or style_picture"),
     ({"style": "twilight", "weights": '{"twilight": 1}'}, ["body"], "exactly one"),
     ({"style": "twilight", "colour": "red"}, ["body", "colour"], "Extra inputs")],
    ids=["zero-blend", "negative-weight", "bad-json", "no-style", "two-styles", "unknown-field"],
)  # fmt: skip
def test_a_bad_form_is_a_422_naming_what_is_wrong(
    client: httpx.Client, form: dict[str, str], loc: list[str], message: str
) -> None:
    errors = detail(client.post(PREDICT, files={"image": upload(PHOTO)}, data=form))
    assert any(e["loc"] == loc and message in e["msg"] for e in errors), errors


def test_wrong_request_and_answer_types_are_clear_4xx(client: httpx.Client) -> None:
    assert client.post(PREDICT, json={"style": "twilight"}).status_code == 415
    not_an_image = client.post(
        PREDICT, files={"image": ("a.txt", b"text", "text/plain")}, data={"style": "twilight"}
    )
    assert not_an_image.status_code == 415 and "field 'image'" in not_an_image.json()["error"]
    html = client.post(
        PREDICT, files={"image": upload(PHOTO)}, data={"style": "twilight"},
        headers={"accept": "text/html"},
    )  # fmt: skip
    assert html.status_code == 406 and "image/png" in html.json()["error"]


def test_oip_infer_takes_and_answers_uint8_picture_tensors(client: httpx.Client) -> None:
    weights = [0.0] * len(STYLES)
    weights[STYLES.index("twilight")] = 1.0
    request = {"inputs": [
        {"name": "image", "datatype": "UINT8", "shape": [1, HEIGHT, WIDTH, 3],
         "data": PHOTO.ravel().tolist()},
        {"name": "weights", "datatype": "FP32", "shape": [1, len(STYLES)], "data": weights},
    ]}  # fmt: skip
    response = client.post("/v2/models/styles/infer", json=request)
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    image = outputs["image"]
    assert (image["datatype"], image["shape"]) == ("UINT8", [1, HEIGHT, WIDTH, 3])
    pixels = np.asarray(image["data"], dtype=np.uint8).reshape(HEIGHT, WIDTH, 3)
    assert np.array_equal(pixels, decoded(styled(client, style="twilight").content))
    assert outputs["style"]["data"] == ["blend"]
    metadata = client.get("/v2/models/styles").json()
    assert {"name": "image", "datatype": "UINT8", "shape": [-1, -1, -1, 3]} in metadata["outputs"]


def test_oip_refuses_values_that_are_not_uint8(client: httpx.Client) -> None:
    request = {"inputs": [
        {"name": "image", "datatype": "UINT8", "shape": [1, 32, 32, 3], "data": [300] * 3072},
        {"name": "weights", "datatype": "FP32", "shape": [1, 26], "data": [1.0] * 26},
    ]}  # fmt: skip
    response = client.post("/v2/models/styles/infer", json=request)
    assert response.status_code == 400 and "UINT8" in response.json()["error"]

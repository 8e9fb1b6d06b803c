"""The digits service over HTTP (real gunicorn, two workers): uploads, OIP, bad images."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from services.digits import Model as DigitsModel
from services.digits.data import split
from services.digits.schemas import DigitImage
from services.runtime.imaging import MAX_SIDE
from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.processes import Server
from tests.services.digits.images import LOOKS, encode, picture, png_header

PREDICT = "/v1/models/digits/predict"
PER_REQUEST = 50


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("digits", "v1", workers=2)


def upload(index: int, pixels: np.ndarray) -> tuple[str, tuple[str, bytes, str]]:
    look = LOOKS[index % len(LOOKS)]
    payload = encode(picture(pixels, look), look.fmt)
    return ("file", (f"digit-{index}.{look.fmt.lower()}", payload, f"image/{look.fmt.lower()}"))


def test_held_out_digits_uploaded_as_larger_images_are_recognised(client: httpx.Client) -> None:
    data = split()
    predicted: list[int] = []
    for start in range(0, len(data.test_y), PER_REQUEST):
        rows = data.test_x[start : start + PER_REQUEST]
        files = [upload(start + i, row) for i, row in enumerate(rows)]
        response = client.post(PREDICT, files=files)
        assert response.status_code == 200, response.text
        predicted += [p["digit"] for p in response.json()["predictions"]]
    accuracy = float(np.mean(np.array(predicted) == data.test_y))
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f} on {len(predicted)} held-out uploads"


def test_each_upload_gets_a_digit_and_probabilities(client: httpx.Client) -> None:
    files = [upload(i, split().test_x[i]) for i in range(3)]
    response = client.post(PREDICT, files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["version"]) == ("digits", "v1")
    assert len(body["predictions"]) == 3
    for prediction in body["predictions"]:
        assert set(prediction) == {"digit", "probabilities"}
        assert len(prediction["probabilities"]) == 10
        assert sum(prediction["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert prediction["digit"] == int(np.argmax(prediction["probabilities"]))


GOOD_PNG = encode(picture(split().test_x[0], LOOKS[0]), "PNG")


@pytest.mark.parametrize(
    ("name", "payload", "media_type", "status", "message"),
    [
        ("empty.png", b"", "image/png", 422, "empty"),
        ("notes.png", b"seven, I think", "image/png", 422, "not an image"),
        ("notes.txt", GOOD_PNG, "text/plain", 415, "not an image type"),
        ("cut.png", GOOD_PNG[: len(GOOD_PNG) // 2], "image/png", 422, "truncated"),
        ("tall.png", png_header(2, MAX_SIDE * 4), "image/png", 422, "each side must be"),
        ("bomb.png", png_header(4500, 4500), "image/png", 422, "decompression bomb"),
        ("bigger-bomb.png", png_header(20000, 20000), "image/png", 422, "decompression bomb"),
        ("blank.png", encode(picture(np.zeros(64), LOOKS[1]), "PNG"), "image/png", 422, "blank"),
    ],
    ids=["empty", "not-image", "wrong-type", "truncated", "absurd-size", "bomb", "big-bomb",
         "blank"],
)  # fmt: skip
def test_bad_images_get_a_precise_4xx_with_a_json_body(
    client: httpx.Client, name: str, payload: bytes, media_type: str, status: int, message: str
) -> None:
    response = client.post(PREDICT, files=[("file", (name, payload, media_type))])
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_one_bad_file_among_good_ones_fails_the_request(client: httpx.Client) -> None:
    files = [upload(0, split().test_x[0]), ("file", ("x.png", b"", "image/png"))]
    response = client.post(PREDICT, files=files)
    assert response.status_code == 422
    assert response.json()["error"].startswith("file 2 (x.png): ")
    assert "empty" in response.json()["error"]


def test_a_body_over_the_limit_is_refused_with_413(client: httpx.Client) -> None:
    huge = ("file", ("huge.png", GOOD_PNG + b"\0" * (2 << 20), "image/png"))
    response = client.post(PREDICT, files=[huge])
    assert response.status_code == 413
    assert "limit" in response.json()["error"]


def test_predict_needs_multipart_uploads(client: httpx.Client) -> None:
    response = client.post(PREDICT, json={"pixels": [0.0] * 64})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]
    response = client.post(PREDICT, files=[("picture", ("a.png", GOOD_PNG, "image/png"))])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


@pytest.fixture(scope="module")
def direct(registry_root: Path) -> DigitsModel:
    """The same artifact loaded in this process."""
    model = DigitsModel()
    model.load(Registry(registry_root).open("digits", "v1")[0])
    return model


def test_oip_takes_preprocessed_8x8_images_and_matches_the_model(
    client: httpx.Client, direct: DigitsModel
) -> None:
    rows = split().test_x[:20]
    tensor = {"name": "pixels", "shape": [20, 8, 8], "datatype": "FP32",
              "data": rows.reshape(20, 8, 8).tolist()}  # fmt: skip
    response = client.post("/v2/models/digits/versions/v1/infer", json={"inputs": [tensor]})
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    expected = direct.predict([DigitImage(pixels=row.tolist()) for row in rows])
    assert outputs["digit"]["data"] == [e.digit for e in expected]
    assert outputs["probabilities"]["shape"] == [20, 10]
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], (20, 10)),
        [e.probabilities for e in expected],
        rtol=1e-5, atol=1e-7,
    )  # fmt: skip


def test_oip_metadata_declares_one_image_tensor(client: httpx.Client) -> None:
    metadata = client.get("/v2/models/digits").json()
    assert metadata["platform"] == "pytorch"
    assert metadata["inputs"] == [{"name": "pixels", "datatype": "FP32", "shape": [-1, 8, 8]}]
    assert {o["name"]: o["shape"] for o in metadata["outputs"]} == {
        "digit": [-1],
        "probabilities": [-1, 10],
    }


@pytest.mark.parametrize(
    ("shape", "data", "message"),
    [
        ([1, 64], [0.0] * 64, "expects [-1, 8, 8]"),
        ([1, 8, 8], [0.0] * 63, "needs 64 values"),
        ([1, 8, 8], [17.0] + [0.0] * 63, "row 0"),
        ([1, 8, 8], ["x"] + [0.0] * 63, "not a FP32 value"),
    ],
    ids=["flat-shape", "short-data", "out-of-range", "wrong-type"],
)
def test_bad_oip_tensors_get_400(
    client: httpx.Client, shape: list[int], data: list, message: str
) -> None:
    tensor = {"name": "pixels", "shape": shape, "datatype": "FP32", "data": data}
    response = client.post("/v2/models/digits/infer", json={"inputs": [tensor]})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_metadata_reports_the_recorded_accuracy(client: httpx.Client, registry_root: Path) -> None:
    body = client.get("/v1/models/digits").json()
    manifest = Registry(registry_root).manifest("digits", "v1")
    assert body["framework"] == "pytorch" and body["ready"] is True
    assert body["metrics"] == manifest.metrics
    assert manifest.metrics["accuracy"] >= 0.95


def test_openapi_documents_uploads_and_the_training_policy(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    predict = spec["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in predict
    train = spec["paths"]["/v1/models/{name}/train"]["post"]
    assert "multipart/form-data" in train["requestBody"]["content"]
    assert "409" in train["responses"] and "refused with 409" in train["description"]
    assert "/v1/models/{name}/train/{job}" in spec["paths"]

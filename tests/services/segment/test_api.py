"""The segment service over HTTP (real gunicorn): held-out mean IoU, masks, overlays, OIP."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from services.segment.fitting import confusion, mean_iou
from services.segment.regions import PALETTE
from services.segment.scenes import CLASSES, held_out
from tests.conftest import ServeModel
from tests.processes import Server
from tests.services.segment.pictures import PREDICT, from_data_url, png, upload

IOU_SLACK = 0.02
IOU_FLOOR = 0.75


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("segment", "v1")


def segmented(client: httpx.Client, image: np.ndarray) -> dict[str, Any]:
    response = client.post(PREDICT, **upload(image))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["version"]) == ("segment", "v1")
    (prediction,) = body["predictions"]
    return dict(prediction)


def test_held_out_mean_iou_through_the_api_matches_the_manifest(client: httpx.Client) -> None:
    scenes = held_out()
    counts = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    for image, truth in zip(scenes.images, scenes.masks, strict=True):
        response = client.post(PREDICT, headers={"accept": "image/png"}, **upload(image))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        counts += confusion(truth, np.asarray(Image.open(io.BytesIO(response.content))))
    measured = mean_iou(counts)
    recorded = client.get("/v1/models/segment").json()["metrics"]["mean_iou"]
    assert measured >= recorded - IOU_SLACK, f"mean IoU {measured:.3f}, manifest {recorded:.3f}"
    assert measured >= IOU_FLOOR, f"mean IoU {measured:.3f} on {len(scenes.images)} scenes"


def test_the_mask_png_decodes_to_the_classes_and_boxes_the_json_reports(
    client: httpx.Client,
) -> None:
    for image in held_out().images[:20]:
        prediction = segmented(client, image)
        picture = from_data_url(prediction["mask"])
        assert picture.mode == "P" and picture.size == (image.shape[1], image.shape[0])
        assert picture.getpalette()[: 3 * CLASSES] == PALETTE.ravel().tolist()
        mask = np.asarray(picture)
        found = {r["index"]: r for r in prediction["regions"]}
        assert sorted(found) == sorted(np.unique(mask).tolist())
        for index, region in found.items():
            rows, cols = np.nonzero(mask == index)
            assert region["pixels"] == len(rows)
            assert region["label"] == ("background" if index == 0 else str(index - 1))
            box = region["box"]
            assert (box["left"], box["top"]) == (cols.min(), rows.min())
            assert (box["right"], box["bottom"]) == (cols.max() + 1, rows.max() + 1)


def test_the_overlay_and_the_mask_have_the_input_size(client: httpx.Client) -> None:
    scenes = held_out().images
    wide = np.concatenate([scenes[0], scenes[1], scenes[2][:, :40]], axis=1)  # 168 x 64
    tall = np.concatenate([wide, wide[:30]], axis=0)  # 168 x 94
    prediction = segmented(client, tall)
    for name in ("overlay", "mask"):
        assert from_data_url(prediction[name]).size == (168, 94), name
    overlay = np.asarray(from_data_url(prediction["overlay"]))
    mask = np.asarray(from_data_url(prediction["mask"]))
    assert overlay.shape == (94, 168, 3)
    assert (overlay[mask == 0] == tall[mask == 0]).all()
    assert (overlay[mask > 0] != tall[mask > 0]).any(axis=1).mean() > 0.9


def test_an_upright_photo_stored_sideways_is_segmented_upright(client: httpx.Client) -> None:
    scene = held_out().images[3]
    sideways = Image.fromarray(np.rot90(scene[:, :48], k=1))  # 64 wide, 48 tall on disk
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    buffer = io.BytesIO()
    sideways.save(buffer, "PNG", exif=exif)
    files = {"image": ("sideways.png", buffer.getvalue(), "image/png")}
    response = client.post(PREDICT, files=files)
    assert response.status_code == 200, response.text
    assert from_data_url(response.json()["predictions"][0]["mask"]).size == (48, 64)


@pytest.mark.parametrize(
    ("files", "status", "where", "message"),
    [
        ({"image": ("notes.png", b"a seven, I think", "image/png")}, 422, "image", "not an image"),
        ({"image": ("cut.png", png(held_out().images[0])[:300], "image/png")}, 422, "image",
         "truncated"),
        ({"image": ("tiny.png", png(np.zeros((8, 8, 3), np.uint8)), "image/png")}, 422, "image",
         "each side must be 16..1024"),
        ({"image": ("long.png", png(np.zeros((20, 1500, 3), np.uint8)), "image/png")}, 422,
         "image", "each side must be 16..1024"),
        ({"picture": ("scene.png", png(held_out().images[0]), "image/png")}, 422, "image",
         "required"),
    ],
    ids=["not-an-image", "truncated", "too-small", "too-long", "misnamed-field"],
)  # fmt: skip
def test_a_bad_picture_is_a_422_naming_the_field(
    client: httpx.Client, files: dict[str, Any], status: int, where: str, message: str
) -> None:
    response = client.post(PREDICT, files=files)
    assert response.status_code == status, response.text
    problems = response.json()["detail"]
    assert any(e["loc"][-1] == where and message in e["msg"].lower() for e in problems), problems


def test_a_file_of_another_type_is_a_415_and_json_is_refused(client: httpx.Client) -> None:
    text = {"image": ("notes.txt", png(held_out().images[0]), "text/plain")}
    response = client.post(PREDICT, files=text)
    assert response.status_code == 415 and "image" in response.json()["error"]
    response = client.post(PREDICT, json={"image": "a scene"})
    assert response.status_code == 415 and "multipart/form-data" in response.json()["error"]


def test_oip_infer_takes_a_uint8_picture_and_answers_mask_overlay_and_regions(
    client: httpx.Client,
) -> None:
    image = held_out().images[5]
    request = {"inputs": [{"name": "image", "datatype": "UINT8", "shape": [1, 64, 64, 3],
                           "data": image.ravel().tolist()}]}  # fmt: skip
    response = client.post("/v2/models/segment/infer", json=request)
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    expected = segmented(client, image)
    mask = outputs["mask"]
    assert (mask["datatype"], mask["shape"]) == ("UINT8", [1, 64, 64])
    assert np.array_equal(
        np.array(mask["data"]).reshape(64, 64), np.asarray(from_data_url(expected["mask"]))
    )
    overlay = outputs["overlay"]
    assert (overlay["datatype"], overlay["shape"]) == ("UINT8", [1, 64, 64, 3])
    assert np.array_equal(
        np.array(overlay["data"]).reshape(64, 64, 3),
        np.asarray(from_data_url(expected["overlay"])),
    )
    regions = outputs["regions"]
    assert (regions["datatype"], regions["shape"]) == ("BYTES", [1])
    assert json.loads(regions["data"][0]) == expected["regions"]


def test_oip_metadata_declares_the_picture_tensors(client: httpx.Client) -> None:
    metadata = client.get("/v2/models/segment").json()
    assert metadata["inputs"] == [{"name": "image", "datatype": "UINT8", "shape": [-1, -1, -1, 3]}]
    assert {o["name"]: (o["datatype"], o["shape"]) for o in metadata["outputs"]} == {
        "mask": ("UINT8", [-1, -1, -1]),
        "overlay": ("UINT8", [-1, -1, -1, 3]),
        "regions": ("BYTES", [-1]),
    }

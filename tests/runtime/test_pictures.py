"""Picture fields: arrays in Python, PNG data URLs in JSON, UINT8 tensors in OIP, files in
forms; predict answers the picture itself when Accept prefers it."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from pydantic import ConfigDict, Field, ValidationError

from services.runtime import Image, Mask, Model, Schema
from services.runtime.app import create_app
from services.runtime.imaging import MAX_SIDE, data_url, encode
from services.runtime.tensors import specs_for
from tests.runtime.test_readiness import settings_for, wait_for

PREDICT = "/v1/models/painter/predict"
COLOURS = ((0, 0, 0), (255, 0, 0), (0, 0, 255))
EXAMPLE = data_url(encode(PILImage.new("RGB", (2, 2))))


class ThreeClasses(Mask):
    palette = COLOURS


class Canvas(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"image": EXAMPLE, "level": 2}]})
    image: Image
    level: int = Field(1, ge=0, le=5)
    tags: list[str] = Field(default_factory=list)
    options: dict[str, float] = Field(default_factory=dict)
    note: str | None = Field(None, description="Left out when there is none")


class Painted(Schema):
    image: Image
    mask: ThreeClasses
    level: int


class Painter(Model[Canvas, Painted]):
    """Inverts the picture; the mask marks dark (1) and bright (2) pixels."""

    name = "painter"
    framework = "test"
    Input = Canvas
    Output = Painted

    def load(self, path: Path) -> None:
        pass

    def warmup_inputs(self) -> list[Canvas]:
        return [Canvas(image=np.zeros((2, 2, 3), np.uint8))]

    def predict(self, batch: list[Canvas]) -> list[Painted]:
        return [
            Painted(image=255 - c.image, mask=1 + (c.image.mean(axis=2) > 127), level=c.level)
            for c in batch
        ]


def png(picture: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(picture).save(buffer, format=fmt)
    return buffer.getvalue()


def from_data_url(url: str) -> PILImage.Image:
    head, data = url.split(",", 1)
    assert head == "data:image/png;base64"
    return PILImage.open(io.BytesIO(base64.b64decode(data)))


CHECKER = np.kron(np.array([[0, 255], [255, 0]], np.uint8), np.ones((3, 4), np.uint8))
PICTURE = np.stack([CHECKER, CHECKER, np.full_like(CHECKER, 60)], axis=-1)  # 6x8
PART = ("p.png", png(PICTURE), "image/png")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(settings_for("painter", tmp_path_factory.mktemp("registry")), Painter())
    with TestClient(app) as client:
        wait_for(lambda: client.get("/readyz").status_code == 200)
        yield client


def test_a_picture_field_holds_an_array_and_dumps_to_a_png_data_url() -> None:
    painted = Painted(image=PICTURE, mask=np.eye(3, dtype=np.int64), level=2)
    assert painted.image is PICTURE and painted.mask.dtype == np.uint8
    dumped = painted.model_dump(mode="json")
    assert np.array_equal(np.asarray(from_data_url(dumped["image"]).convert("RGB")), PICTURE)
    mask = from_data_url(dumped["mask"])
    assert mask.mode == "P" and np.array_equal(np.asarray(mask), np.eye(3))
    assert mask.getpalette()[:9] == [c for colour in COLOURS for c in colour]
    assert np.array_equal(Painted.model_validate_json(painted.model_dump_json()).image, PICTURE)


def test_the_json_schema_says_data_url_png_and_the_kind() -> None:
    properties = Painted.model_json_schema()["properties"]
    for name, kind in (("image", "image"), ("mask", "mask")):
        assert properties[name]["format"] == "data-url"
        assert properties[name]["contentMediaType"] == "image/png"
        assert properties[name]["x-modelfleet-kind"] == kind


@pytest.mark.parametrize(
    ("image", "mask", "message"),
    [(PICTURE.astype(np.float32), np.zeros((2, 2)), "uint8"),
     (PICTURE[..., 0], np.zeros((2, 2)), "HxWx3 or HxWx4"),
     (PICTURE, np.full((2, 2), 3), "class indices 0..2"),
     (PICTURE, np.zeros((2, 2, 1)), "HxW integer"),
     (np.zeros((1, MAX_SIDE + 1, 3), np.uint8), np.zeros((2, 2)), f"1..{MAX_SIDE}"),
     ("data:image/png;base64,bm90IGEgcGljdHVyZQ==", np.zeros((2, 2)), "not an image"),
     ("plain text", np.zeros((2, 2)), "data URL")],
    ids=["float", "grey", "unknown-class", "3d-mask", "too-wide", "bad-bytes", "not-a-url"],
)  # fmt: skip
def test_a_bad_picture_is_a_validation_error_naming_the_field(
    image: object, mask: object, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Painted(image=image, mask=mask, level=0)
    assert message in str(caught.value)


def test_oip_declares_images_and_masks_as_uint8_tensors() -> None:
    specs = {spec.name: spec for spec in specs_for(Painted)}
    assert (specs["image"].datatype, specs["image"].shape) == ("UINT8", (-1, -1, -1, -1))
    assert (specs["mask"].datatype, specs["mask"].shape) == ("UINT8", (-1, -1, -1))


def test_a_form_carries_the_picture_as_a_file_and_every_other_field_as_text(
    client: TestClient,
) -> None:
    form = {"level": "3", "tags": ["a", "b"], "options": '{"x": 0.5}'}
    response = client.post(PREDICT, files={"image": PART}, data=form)
    assert response.status_code == 200, response.text
    (painted,) = response.json()["predictions"]
    assert painted["level"] == 3
    assert np.array_equal(np.asarray(from_data_url(painted["image"]).convert("RGB")), 255 - PICTURE)
    assert set(np.unique(np.asarray(from_data_url(painted["mask"])))) == {1, 2}


@pytest.mark.parametrize(
    ("files", "form", "loc", "message"),
    [({"level": (None, "1")}, {}, ["body", "image"], "Field required"),
     ({"image": ("p.png", b"", "image/png")}, {}, ["body", "image"], "p.png: the file is empty"),
     ({"image": PART, "level": ("l.txt", b"3", "text/plain")}, {}, ["body", "level"],
      "takes text, not a file"),
     ({"image": PART}, {"level": ["1", "2"]}, ["body", "level"], "one value, the form has 2"),
     ({"image": PART}, {"options": "{"}, ["body", "options"], "JSON text"),
     ({"image": PART}, {"level": "9"}, ["body", "level"], "less than or equal to 5"),
     ({"image": PART}, {"colour": "red"}, ["body", "colour"], "Extra inputs")],
    ids=["no-picture", "empty-file", "file-for-text", "repeated", "bad-json", "range", "unknown"],
)  # fmt: skip
def test_every_form_problem_is_a_422_naming_the_field(
    client: TestClient, files: dict, form: dict, loc: list[str], message: str
) -> None:
    response = client.post(PREDICT, files=files, data=form)
    assert response.status_code == 422, response.text
    assert any(e["loc"] == loc and message in e["msg"] for e in response.json()["detail"])


def test_two_files_for_one_picture_field_are_refused(client: TestClient) -> None:
    response = client.post(PREDICT, files=[("image", PART), ("image", PART)])
    assert response.status_code == 422
    assert "one file, the form has 2" in response.json()["detail"][0]["msg"]


def test_a_picture_may_also_come_as_a_data_url_in_a_text_part(client: TestClient) -> None:
    url = "data:image/png;base64," + base64.b64encode(png(PICTURE)).decode()
    response = client.post(PREDICT, data={"image": url}, files={"level": (None, "2")})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [(None, "application/json"), ("*/*", "application/json"), ("image/*", "image/png"),
     ("image/webp, application/json;q=0.5", "image/webp"), ("image/jpeg", "image/jpeg"),
     ("application/json, image/png", "application/json")],
)  # fmt: skip
def test_accept_chooses_the_picture_itself_or_json(
    client: TestClient, accept: str | None, media_type: str
) -> None:
    headers = {"accept": accept} if accept else {}
    files = {"image": PART}
    response = client.post(PREDICT, files=files, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == media_type
    if media_type == "image/png":  # the first picture field: the inverted picture
        assert np.array_equal(
            np.asarray(PILImage.open(io.BytesIO(response.content))), 255 - PICTURE
        )


def test_an_accept_nothing_offered_can_satisfy_is_a_406_listing_the_offers(
    client: TestClient,
) -> None:
    files = {"image": PART}
    response = client.post(PREDICT, files=files, headers={"accept": "text/html"})
    assert response.status_code == 406
    assert "application/json, image/png, image/jpeg, image/webp" in response.json()["error"]


def test_the_openapi_documents_the_picture_answers_and_the_form(client: TestClient) -> None:
    route = client.get("/openapi.json").json()["paths"]["/v1/models/{name}/predict"]["post"]
    assert list(route["responses"]["200"]["content"]) == [
        "application/json", "image/png", "image/jpeg", "image/webp",
    ]  # fmt: skip
    form = route["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["image"]["format"] == "binary"
    assert form["encoding"]["options"] == {"contentType": "application/json"}


def test_the_form_schema_holds_only_what_a_form_can_send(client: TestClient) -> None:
    form = client.get("/openapi.json").json()["paths"]["/v1/models/{name}/predict"]["post"][
        "requestBody"
    ]["content"]["multipart/form-data"]["schema"]
    # No null for an optional field (a form leaves its part out), no JSON examples whose
    # pictures are data URLs where the form takes files; the metadata keeps the examples.
    note = {"type": "string", "title": "Note", "description": "Left out when there is none"}
    assert form["properties"]["note"] == note and "examples" not in form
    (predict,) = client.get("/v1/models/painter").json()["operations"]
    assert predict["input_schema"]["examples"] == [{"image": EXAMPLE, "level": 2}]
    assert predict["input_schema"]["properties"]["note"] == note


def test_the_form_predict_declares_every_answer_with_its_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    answers = spec["paths"]["/v1/models/{name}/predict"]["post"]["responses"]
    assert set(answers) == {"200", "400", "404", "406", "413", "415", "422", "500", "503"}
    for status, answer in answers.items():
        if status != "200":
            assert list(answer["content"]) == ["application/json"], status
    assert answers["406"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "Retry-After" in answers["503"]["headers"]


def test_an_uploaded_photo_is_turned_upright_by_its_exif_orientation(client: TestClient) -> None:
    image = PILImage.fromarray(PICTURE)
    exif = image.getexif()
    exif[0x0112] = 6  # stored turned: show it rotated 90 degrees clockwise
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    files = {"image": ("phone.jpg", buffer.getvalue(), "image/jpeg")}
    response = client.post(PREDICT, files=files, headers={"accept": "image/png"})
    assert PILImage.open(io.BytesIO(response.content)).size == (6, 8)  # was 8 wide, 6 high

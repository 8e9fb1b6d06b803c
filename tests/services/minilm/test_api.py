"""The minilm service over HTTP (real gunicorn) against `transformers` run directly."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.processes import Server
from tests.services.minilm.reference import Reference

TEXTS = [
    "A man is playing a guitar on stage.",
    "How do I reset my password?",
    "Ünïcödé, emoji 🚀 and CJK 漢字 are tokenized too.",
    "ok",
    " ".join(f"word{i}" for i in range(40)),
]
LONG = "The quick brown fox jumps over the lazy dog. " * 60
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("minilm", "v1", env={"MODELFLEET_TORCH_THREADS": "1"})


@pytest.fixture(scope="module")
def reference(registry_root: Path) -> Reference:
    path, _ = Registry(registry_root).open("minilm", "v1")
    return Reference(path)


def embeddings(predictions: list[dict]) -> np.ndarray:
    return np.array([p["embedding"] for p in predictions])


def test_one_text_embeds_like_transformers_directly(
    client: httpx.Client, reference: Reference
) -> None:
    for text in TEXTS:
        response = client.post("/v1/models/minilm/predict", json={"text": text})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["model"], body["version"]) == ("minilm", "v1")
        (prediction,) = body["predictions"]
        assert len(prediction["embedding"]) == 384
        assert prediction["tokens"] == reference.token_count(text)
        assert prediction["truncated"] is False
        np.testing.assert_allclose(
            prediction["embedding"], reference.embed([text])[0], rtol=0, atol=TOLERANCE
        )


def test_bulk_of_mixed_lengths_embeds_each_text_like_transformers(
    client: httpx.Client, reference: Reference
) -> None:
    texts = [*TEXTS, LONG, *reversed(TEXTS)]
    response = client.post(
        "/v1/models/minilm/predict", json={"instances": [{"text": t} for t in texts]}
    )
    assert response.status_code == 200, response.text
    vectors = embeddings(response.json()["predictions"])
    np.testing.assert_allclose(vectors, reference.embed(texts), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_text_over_the_token_limit_is_truncated_and_says_so(
    client: httpx.Client, reference: Reference
) -> None:
    response = client.post("/v1/models/minilm/predict", json={"text": LONG})
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    assert prediction["truncated"] is True
    assert prediction["tokens"] == reference.token_count(LONG) > reference.max_length
    # Truncation keeps the head: the result is the embedding of the first 256 pieces.
    np.testing.assert_allclose(
        prediction["embedding"], reference.embed([LONG])[0], rtol=0, atol=TOLERANCE
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": ""}, ["body", "instance", "text"]),
        ({"text": "  \n\t "}, ["body", "instance", "text"]),
        ({"instances": [{"text": "fine"}, {"text": "   "}]}, ["body", "bulk", "instances", 1, "text"]),
        ({"text": "x" * 20_001}, ["body", "instance", "text"]),
        ({"text": 42}, ["body", "instance", "text"]),
        ({"texts": ["a"]}, ["body", "instance", "texts"]),
    ],
    ids=["empty", "white-space", "blank-in-bulk", "over-char-limit", "not-a-string", "unknown-field"],
)  # fmt: skip
def test_bad_text_is_422_naming_the_field(client: httpx.Client, body: dict, loc: list) -> None:
    response = client.post("/v1/models/minilm/predict", json=body)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]


ANSWER_CASES = [
    (
        "Where is the Eiffel Tower?",
        "The Eiffel Tower was completed in 1889. The Eiffel Tower is located in Paris, France. "
        "It is 330 metres tall. Gustave Eiffel's company designed and built the tower.",
        "The Eiffel Tower is located in Paris, France.",
    ),
    (
        "What gas do plants absorb from the air?",
        "Plants need sunlight to grow. Plants absorb carbon dioxide from the air. "
        "Their roots take up water and minerals. Some plants have flowers.",
        "Plants absorb carbon dioxide from the air.",
    ),
    (
        "Who wrote Pride and Prejudice?",
        "Pride and Prejudice was first published in 1813. The story is set in rural England. "
        "Jane Austen wrote Pride and Prejudice. Elizabeth Bennet is its heroine.",
        "Jane Austen wrote Pride and Prejudice.",
    ),
    (
        "Which language has the most native speakers?",
        "English is widely learned as a second language. Mandarin Chinese has the most native "
        "speakers. Spanish is spoken across Latin America. French is an official language of "
        "many countries.",
        "Mandarin Chinese has the most native speakers.",
    ),
    (
        "How many legs does a spider have?",
        "Spiders are arachnids, not insects. Insects have six legs.\n"
        "A spider has eight legs. Many spiders spin webs of silk.",
        "A spider has eight legs.",
    ),
    (
        "When did humans first land on the Moon?",
        "The Moon orbits the Earth every 27 days. Apollo 11 landed on the Moon in July 1969! "
        "Neil Armstrong was its commander. Is the Moon moving away from Earth? Yes, slowly.",
        "Apollo 11 landed on the Moon in July 1969!",
    ),
    (
        "At what temperature does water boil?",
        "Dr. Celsius proposed his scale in 1742. Water boils at 100 degrees Celsius at sea level. "
        "Ice melts at 0 degrees. Salt lowers the freezing point of water.",
        "Water boils at 100 degrees Celsius at sea level.",
    ),
]


@pytest.mark.parametrize(("question", "context", "expected"), ANSWER_CASES)
def test_answer_selection_picks_the_sentence_that_answers(
    client: httpx.Client, question: str, context: str, expected: str
) -> None:
    response = client.post(
        "/v1/models/minilm/answer", json={"question": question, "context": context}
    )
    assert response.status_code == 200, response.text
    assert response.json()["answer"] == expected


def test_answer_ranks_runners_up_by_score_with_their_positions(
    client: httpx.Client, reference: Reference
) -> None:
    question, context, _ = ANSWER_CASES[0]
    response = client.post(
        "/v1/models/minilm/answer", json={"question": question, "context": context, "top_k": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sentences"] == 4 and body["index"] == 1 and body["question_truncated"] is False
    ranked = [body, *body["runners_up"]]
    assert len(ranked) == 3
    assert [c["score"] for c in ranked] == sorted((c["score"] for c in ranked), reverse=True)
    sentences = [c.get("sentence", body["answer"]) for c in ranked]
    vectors = reference.embed([question, *sentences])
    np.testing.assert_allclose(
        [c["score"] for c in ranked], vectors[1:] @ vectors[0], rtol=0, atol=TOLERANCE
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"question": " ", "context": "Some context."}, ["body", "question"]),
        ({"question": "Why?", "context": "\n\n"}, ["body", "context"]),
        ({"question": "Why?", "context": "Yes. " * 129}, ["body", "context"]),
        ({"question": "Why?", "context": "Because.", "top_k": -1}, ["body", "top_k"]),
        ({"context": "Because."}, ["body", "question"]),
        ({"question": "Why?", "context": "Because.", "top_k": False}, ["body", "top_k"]),
    ],
    ids=["blank-question", "blank-context", "too-many-sentences", "negative-top-k", "no-question",
         "boolean-top-k"],
)  # fmt: skip
def test_bad_answer_request_is_422_naming_the_field(
    client: httpx.Client, body: dict, loc: list
) -> None:
    response = client.post("/v1/models/minilm/answer", json=body)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]


def test_an_integral_number_is_an_integer_as_in_json_schema(client: httpx.Client) -> None:
    body = {"question": "Why?", "context": "Because. It rains.", "top_k": 1.0}
    response = client.post("/v1/models/minilm/answer", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["runners_up"]) == 1


def test_oip_metadata_declares_text_as_bytes(client: httpx.Client) -> None:
    metadata = client.get("/v2/models/minilm").json()
    assert metadata["platform"] == "transformers"
    assert metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert {o["name"]: (o["datatype"], o["shape"]) for o in metadata["outputs"]} == {
        "embedding": ("FP64", [-1, 384]),
        "tokens": ("INT64", [-1]),
        "truncated": ("BOOL", [-1]),
    }


def test_oip_infer_embeds_bytes_texts_like_transformers(
    client: httpx.Client, reference: Reference
) -> None:
    texts = [TEXTS[0], LONG]
    request = {
        "id": "q1",
        "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": texts}],
    }
    response = client.post("/v2/models/minilm/versions/v1/infer", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("minilm", "v1", "q1")
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["embedding"]["shape"] == [2, 384]
    vectors = np.array(outputs["embedding"]["data"]).reshape(2, 384)
    np.testing.assert_allclose(vectors, reference.embed(texts), rtol=0, atol=TOLERANCE)
    assert outputs["truncated"]["data"] == [False, True]
    assert outputs["tokens"]["data"] == [reference.token_count(t) for t in texts]


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"datatype": "FP32", "data": [1.0]}, "datatype FP32; this model expects BYTES"),
        ({"datatype": "BYTES", "data": ["   "]}, "row 0: text: Value error, text is empty"),
        ({"datatype": "BYTES", "data": [7]}, "7 is not a BYTES value"),
    ],
    ids=["wrong-datatype", "blank-text", "number-as-bytes"],
)
def test_bad_oip_text_is_400(client: httpx.Client, tensor: dict, message: str) -> None:
    request = {"inputs": [{"name": "text", "shape": [1], **tensor}]}
    response = client.post("/v2/models/minilm/infer", json=request)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_metadata_names_the_imported_artifact(client: httpx.Client, registry_root: Path) -> None:
    body = client.get("/v1/models/minilm").json()
    manifest = Registry(registry_root).manifest("minilm", "v1")
    assert body["framework"] == "transformers" and body["ready"] is True
    assert body["artifact_sha256"] == manifest.sha256
    assert manifest.params["source"] == "sentence-transformers/all-MiniLM-L6-v2"

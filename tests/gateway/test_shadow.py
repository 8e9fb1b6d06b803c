"""Shadow traffic: copies reach the shadow version, agreement is counted, callers unaffected."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest
from tritonclient.utils import serialize_byte_tensor

from gateway.binary import document
from gateway.proxy import Answer
from gateway.shadow import answers_agree
from tests.processes import wait_until
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes

SETOSA = {"species": "setosa", "probabilities": {"setosa": 0.9, "versicolor": 0.1}}


def typed(*predictions: object) -> dict[str, object]:
    return {"model": "iris", "version": "v1", "predictions": list(predictions)}


def test_labels_decide_agreement_whatever_the_scores() -> None:
    other_scores = {"species": "setosa", "probabilities": {"setosa": 0.6, "versicolor": 0.4}}
    assert answers_agree(typed(SETOSA), {**typed(other_scores), "version": "v3"})
    assert not answers_agree(typed(SETOSA), typed({**SETOSA, "species": "virginica"}))


def test_a_bulk_answer_agrees_only_if_every_prediction_does() -> None:
    assert not answers_agree(typed(SETOSA, SETOSA), typed(SETOSA))
    assert not answers_agree(typed(SETOSA, SETOSA), typed(SETOSA, {**SETOSA, "species": "x"}))


def test_numeric_predictions_agree_within_a_relative_tolerance() -> None:
    assert answers_agree(typed([0.1, 0.2, 0.3]), typed([0.1, 0.2, 0.3000001]))
    assert not answers_agree(typed([0.1, 0.2, 0.3]), typed([0.1, 0.2, 0.31]))


def test_oip_outputs_are_compared_tensor_by_tensor() -> None:
    def oip(data: list[float], version: str) -> dict[str, object]:
        output = {"name": "embedding", "datatype": "FP32", "shape": [1, 2], "data": data}
        return {"model_name": "minilm", "model_version": version, "outputs": [output]}

    assert answers_agree(oip([0.5, 0.25], "v1"), oip([0.5, 0.25], "v2"))
    assert not answers_agree(oip([0.5, 0.25], "v1"), oip([0.25, 0.5], "v2"))


def _binary_answer(species: list[str], probabilities: list[list[float]]) -> Answer:
    """An iris OIP answer with both outputs in binary, laid out by tritonclient's serializer."""
    labels = serialize_byte_tensor(np.array([s.encode() for s in species], dtype=object)).item()
    scores = np.array(probabilities, "<f8").tobytes()
    outputs = [
        {"name": "species", "datatype": "BYTES", "shape": [len(species)],
         "parameters": {"binary_data_size": len(labels)}},
        {"name": "probabilities", "datatype": "FP64", "shape": [len(species), 3],
         "parameters": {"binary_data_size": len(scores)}},
    ]  # fmt: skip
    header = json.dumps({"model_name": "iris", "model_version": "v1", "outputs": outputs}).encode()
    headers = ((b"Inference-Header-Content-Length", str(len(header)).encode()),)
    return Answer(200, headers, header + labels + scores)


def test_binary_oip_answers_are_read_then_compared() -> None:
    primary = _binary_answer(["setosa", "virginica"], [[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    assert document(primary)["outputs"][0]["data"] == ["setosa", "virginica"]
    close = _binary_answer(["setosa", "virginica"], [[0.90001, 0.1, 0.0], [0.0, 0.2, 0.8]])
    other = _binary_answer(["setosa", "versicolor"], [[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    assert answers_agree(document(primary), document(close))
    assert not answers_agree(document(primary), document(other))


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    shadow = {"version": "v3", "percent": 100}
    return start_gateway(model_routes(upstreams, {"v1": 100, "v3": 0}, shadow=shadow))


def shadow_counts(gateway: Gateway) -> dict[str, float]:
    counts = {}
    for line in httpx.get(f"{gateway.url}/metrics").text.splitlines():
        if line.startswith("modelfleet_gateway_shadow_total{"):
            result = line.split('result="')[1].split('"')[0]
            counts[result] = float(line.rsplit(" ", 1)[1])
    return counts


def test_shadow_copies_are_counted_as_agreeing_and_callers_only_see_the_primary(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    before = upstreams["v3"].stats().get("shadow", 0)
    traffic = send_many(Load(gateway.url + "/models/iris/predict", 60, {}, concurrency=4))
    assert traffic.failures == [] and traffic.versions() == {"v1": 60}
    wait_until(lambda: shadow_counts(gateway).get("agree") == 60, 10, "60 agreeing shadows")
    assert upstreams["v3"].stats()["shadow"] - before == 60


def test_disagreeing_and_failing_shadows_are_counted_and_never_reach_the_caller(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    start = shadow_counts(gateway)
    upstreams["v3"].control(label="virginica")
    send_many(Load(gateway.url + "/models/iris/predict", 10, {}, concurrency=2))
    upstreams["v3"].control(status=500)
    traffic = send_many(Load(gateway.url + "/models/iris/predict", 10, {}, concurrency=2))
    assert traffic.failures == []
    expected = {"disagree": start.get("disagree", 0) + 10, "error": start.get("error", 0) + 10}
    wait_until(lambda: {k: shadow_counts(gateway).get(k) for k in expected} == expected,
               10, "disagree and error shadows")  # fmt: skip


def test_a_slow_shadow_never_slows_the_caller(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    upstreams["v3"].control(delay=3)
    started = time.monotonic()
    for _ in range(5):
        response = httpx.post(f"{gateway.url}/models/iris/predict", json={})
        assert response.headers["x-model-version"] == "v1"
    assert time.monotonic() - started < 3  # five answers before one shadow could finish

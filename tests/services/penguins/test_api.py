"""The penguins service over HTTP (real gunicorn, two workers): query GET, POST, bulk, OIP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from services.penguins import Model as PenguinsModel
from services.penguins.schemas import CATEGORIES, MEASUREMENTS, Penguin
from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.processes import Server
from tests.services.penguins.rows import ROWS, SPECIES

PREDICT = "/v1/models/penguins/predict"
FIELDS = list(Penguin.model_fields)
GOOD = ROWS[0]


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("penguins", "v1", workers=2)


@pytest.fixture(scope="module")
def direct(registry_root: Path) -> list[dict[str, Any]]:
    """Predictions of the same artifact loaded in this process."""
    model = PenguinsModel()
    model.load(Registry(registry_root).open("penguins", "v1")[0])
    return [p.model_dump() for p in model.predict([Penguin(**row) for row in ROWS])]


def test_held_out_accuracy_through_the_api_is_at_least_095_and_the_manifest_says_so(
    client: httpx.Client,
) -> None:
    response = client.post(PREDICT, json={"instances": ROWS})
    assert response.status_code == 200, response.text
    predicted = [p["species"] for p in response.json()["predictions"]]
    accuracy = float(np.mean(np.array(predicted) == np.array(SPECIES)))
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f} on {len(ROWS)} held-out penguins"
    manifest = client.get("/v1/models/penguins").json()
    assert manifest["metrics"]["accuracy"] >= 0.95


def test_get_with_query_parameters_answers_as_post_for_every_held_out_penguin(
    client: httpx.Client, direct: list[dict[str, Any]]
) -> None:
    for row, expected in zip(ROWS, direct, strict=True):
        got = client.get(PREDICT, params=row)
        posted = client.post(PREDICT, json=row)
        assert got.status_code == posted.status_code == 200, got.text + posted.text
        assert got.json() == posted.json()
        assert got.json()["predictions"] == [expected]


def test_bulk_post_equals_one_by_one(client: httpx.Client, direct: list[dict[str, Any]]) -> None:
    response = client.post(PREDICT, json={"instances": ROWS})
    assert response.json()["predictions"] == direct


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != name}


@pytest.mark.parametrize(
    ("params", "named", "kind"),
    [
        (without("bill_length_mm"), "bill_length_mm", "missing"),
        (without("island"), "island", "missing"),
        ({**without("body_mass_g"), "body_mass": 3750}, "body_mass", "extra_forbidden"),
        ({**GOOD, "flipper_length_mm": 900}, "flipper_length_mm", "less_than_equal"),
        ({**GOOD, "bill_depth_mm": 2}, "bill_depth_mm", "greater_than_equal"),
        ({**GOOD, "bill_depth_mm": "deep"}, "bill_depth_mm", "float_parsing"),
        ({**GOOD, "island": "Anvers"}, "island", "literal_error"),
        ({**GOOD, "sex": "unknown"}, "sex", "literal_error"),
    ],
    ids=["missing-measurement", "missing-island", "misspelled", "too-long", "too-shallow",
         "not-a-number", "unknown-island", "unknown-sex"],
)  # fmt: skip
def test_a_bad_query_parameter_is_a_422_naming_it(
    client: httpx.Client, params: dict[str, Any], named: str, kind: str
) -> None:
    response = client.get(PREDICT, params=params)
    assert response.status_code == 422, response.text
    problems = {(tuple(e["loc"]), e["type"]) for e in response.json()["detail"]}
    assert (("query", named), kind) in problems


def test_every_query_parameter_is_typed_bounded_and_documented(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    parameters = {
        p["name"]: p
        for p in spec["paths"]["/v1/models/{name}/predict"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert set(parameters) == set(FIELDS)
    for name, parameter in parameters.items():
        assert parameter["required"] is True, name
        assert parameter["schema"].get("description") or parameter.get("description"), name
    for name in MEASUREMENTS:
        schema = parameters[name]["schema"]
        assert schema["type"] == "number" and {"minimum", "maximum"} <= set(schema), name
    for name in CATEGORIES:
        assert parameters[name]["schema"]["enum"], name


def oip_request(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def tensor(name: str) -> dict[str, Any]:
        datatype = "FP64" if name in MEASUREMENTS else "BYTES"
        return {"name": name, "shape": [len(rows)], "datatype": datatype,
                "data": [r[name] for r in rows]}  # fmt: skip

    return {"inputs": [tensor(name) for name in FIELDS]}


def test_oip_inference_matches_the_model(
    client: httpx.Client, direct: list[dict[str, Any]]
) -> None:
    response = client.post("/v2/models/penguins/infer", json=oip_request(ROWS))
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    assert outputs["species"]["data"] == [d["species"] for d in direct]
    assert outputs["probabilities"]["shape"] == [len(ROWS), 3]
    probabilities = np.array(outputs["probabilities"]["data"]).reshape(len(ROWS), 3)
    expected = [list(d["probabilities"].values()) for d in direct]
    assert probabilities.tolist() == expected

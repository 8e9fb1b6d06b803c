"""Query-parameter predict: any model with a flat scalar input may opt in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import ConfigDict, Field

from services.runtime import Model, Schema
from services.runtime.app import create_app
from services.runtime.query import check_flat
from tests.runtime.test_readiness import settings_for, wait_for

PREDICT = "/v1/models/bills/predict"
GOOD = {"length_mm": 39.1, "island": "Dream"}


class Bill(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [GOOD]})
    length_mm: float = Field(ge=10, le=100, description="Bill length in millimetres")
    island: Literal["Biscoe", "Dream", "Torgersen"] = Field(description="Where it was seen")
    year: int | None = Field(None, ge=2000, le=2030, description="Year of the sighting")


class Guess(Schema):
    long: bool
    island: str
    year: int | None


class Bills(Model[Bill, Guess]):
    name = "bills"
    framework = "test"
    Input = Bill
    Output = Guess
    query_predict = True

    def load(self, path: Path) -> None:
        pass

    def predict(self, batch: list[Bill]) -> list[Guess]:
        return [Guess(long=b.length_mm > 40, island=b.island, year=b.year) for b in batch]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(settings_for("bills", tmp_path_factory.mktemp("registry")), Bills())
    with TestClient(app) as client:
        wait_for(lambda: client.get("/readyz").status_code == 200)
        yield client


def test_get_with_query_parameters_answers_what_post_answers(client: TestClient) -> None:
    for instance in (GOOD, {"length_mm": 45.0, "island": "Biscoe", "year": 2008}):
        got = client.get(PREDICT, params=instance)
        posted = client.post(PREDICT, json=instance)
        assert got.status_code == posted.status_code == 200
        assert got.json() == posted.json()


@pytest.mark.parametrize(
    ("params", "loc", "kind"),
    [({"island": "Dream"}, "length_mm", "missing"),
     ({**GOOD, "lenght_mm": "40"}, "lenght_mm", "extra_forbidden"),
     ({**GOOD, "length_mm": "400"}, "length_mm", "less_than_equal"),
     ({**GOOD, "length_mm": "long"}, "length_mm", "float_parsing"),
     ({**GOOD, "island": "Atlantis"}, "island", "literal_error"),
     ({**GOOD, "year": "1999"}, "year", "greater_than_equal")],
    ids=["missing", "misspelled", "out-of-range", "not-a-number", "not-a-choice", "too-early"],
)  # fmt: skip
def test_a_bad_parameter_is_a_422_naming_it(
    client: TestClient, params: dict[str, str], loc: str, kind: str
) -> None:
    response = client.get(PREDICT, params=params)
    assert response.status_code == 422
    assert any(e["loc"] == ["query", loc] and e["type"] == kind for e in response.json()["detail"])


def test_every_parameter_is_documented_with_its_type_bounds_and_description(
    client: TestClient,
) -> None:
    route = client.get("/openapi.json").json()["paths"]["/v1/models/{name}/predict"]["get"]
    query = {p["name"]: p for p in route["parameters"] if p["in"] == "query"}
    assert set(query) == {"length_mm", "island", "year"}
    length = query["length_mm"]
    assert length["required"] and length["description"] == "Bill length in millimetres"
    assert (length["schema"]["minimum"], length["schema"]["maximum"]) == (10, 100)
    assert query["island"]["schema"]["enum"] == ["Biscoe", "Dream", "Torgersen"]
    assert not query["year"]["required"]
    operations = client.get("/v1/models/bills").json()["operations"]
    assert operations[0]["query"] is True


def test_every_answer_is_declared_with_its_body(client: TestClient) -> None:
    answers = client.get("/openapi.json").json()["paths"]["/v1/models/{name}/predict"]["get"][
        "responses"
    ]
    # No body, so no 400, 413 or 415; no picture output, so no Accept to refuse (406).
    assert set(answers) == {"200", "404", "422", "500", "503"}
    assert {s["$ref"] for s in answers["422"]["content"]["application/json"]["schema"]["anyOf"]} == {
        "#/components/schemas/ValidationErrorBody", "#/components/schemas/ErrorBody",
    }  # fmt: skip


def test_a_nested_input_cannot_opt_in() -> None:
    class Nested(Schema):
        values: list[float]
        name: str

    with pytest.raises(TypeError, match=r"\['values'\] are not scalars"):
        check_flat(Nested)

"""`GET /v1/models/{name}` lists every operation a model serves, as its OpenAPI does.

The playground builds its forms from this list alone, so it must agree with the
routes the service really has: same paths, same request media type, the same
input and output schemas, the same answer media types, query parameters and
picture fields.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.cli.main import model_packages
from tests.conftest import ServeModel

MEDIA_TYPE = {"json": "application/json", "multipart": "multipart/form-data"}
KIND = "x-modelfleet-kind"


@pytest.fixture(scope="module", params=model_packages())
def described(request: pytest.FixtureRequest, serve_model_module: ServeModel) -> tuple[dict, dict]:
    service = serve_model_module(request.param)
    with httpx.Client(base_url=service.url, timeout=30) as client:
        return client.get(f"/v1/models/{request.param}").json(), client.get("/openapi.json").json()


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_predict_comes_first_then_every_action(described: tuple[dict, dict]) -> None:
    metadata, spec = described
    names = [op["name"] for op in metadata["operations"]]
    assert names[0] == "predict" and len(set(names)) == len(names)
    actions = {p.rsplit("/", 1)[1] for p in spec["paths"] if p.count("/") == 4}
    assert set(names) <= actions | {"predict"}
    assert metadata["limits"]["max_body_bytes"] >= 1024 and metadata["limits"]["max_instances"] >= 1


def test_every_operation_is_a_route_with_its_media_type_and_schemas(
    described: tuple[dict, dict],
) -> None:
    metadata, spec = described
    name = metadata["name"]
    for op in metadata["operations"]:
        assert op["path"] == f"/v1/models/{name}/{op['name']}"
        route = spec["paths"][f"/v1/models/{{name}}/{op['name']}"]["post"]
        content = route["requestBody"]["content"]
        assert list(content) == [MEDIA_TYPE[op["request"]]], op["name"]
        body = resolve(spec, content[MEDIA_TYPE[op["request"]]]["schema"])
        if op["request"] == "multipart":
            assert set(op["input_schema"]["properties"]) == set(body["properties"])
            assert op["media_types"], "an upload operation names the file types it takes"
        else:
            # JSON predict takes the input or a bulk of it; an action takes its request.
            titles = {resolve(spec, s).get("title") for s in body.get("oneOf", [body])}
            assert op["input_schema"]["title"] in titles
        answers = route["responses"]["200"]["content"]
        assert list(op["answers"]) == list(answers), op["name"]
        assert op["stream"] == (op["answers"] == ["application/x-ndjson"])
        first = answers[op["answers"][0]]  # a stream describes each line (itemSchema)
        answer = resolve(spec, first.get("itemSchema") or first["schema"])
        if op["name"] == "predict":
            answer = resolve(spec, answer["properties"]["predictions"]["items"])
        assert answer["title"] == op["output_schema"]["title"]
        assert kinds(spec, answer) == kinds(spec, op["output_schema"])


def kinds(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, str]:
    """The picture fields of an object schema and their kinds (image, mask)."""
    properties = {n: resolve(spec, p) for n, p in schema["properties"].items()}
    return {n: p[KIND] for n, p in properties.items() if KIND in p}


def test_form_file_parts_are_exactly_the_picture_fields(described: tuple[dict, dict]) -> None:
    metadata, _ = described
    for op in metadata["operations"]:
        properties = op["input_schema"]["properties"]
        files = {n for n, p in properties.items() if p.get("format") == "binary"}
        pictures = {n for n, p in properties.items() if KIND in p}
        if op["request"] == "json":
            assert not files
        elif pictures:  # a form with picture fields; else an upload of raw files (digits)
            assert files == pictures


def test_a_query_operation_documents_every_input_field_as_a_query_parameter(
    described: tuple[dict, dict],
) -> None:
    metadata, spec = described
    (predict,) = [op for op in metadata["operations"] if op["name"] == "predict"]
    get = spec["paths"]["/v1/models/{name}/predict"].get("get")
    assert (get is not None) == predict["query"]
    if get is not None:
        query = {p["name"]: p for p in get["parameters"] if p["in"] == "query"}
        assert set(query) == set(predict["input_schema"]["properties"])
        required = set(predict["input_schema"].get("required", []))
        assert {n for n, p in query.items() if p["required"]} == required

"""The iris service over HTTP (real gunicorn, two workers) against the model itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_iris

from services.iris import Model as IrisModel
from services.iris.schemas import FEATURES, IrisFeatures
from services.runtime.registry import Registry
from tests.conftest import ServeModel
from tests.processes import Server, wait_until

ROWS = [dict(zip(FEATURES, map(float, row), strict=True)) for row in load_iris().data]


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("iris", "v1", workers=2)


@pytest.fixture(scope="module")
def direct(registry_root: Path) -> list[dict]:
    """Predictions of the same artifact loaded in this process."""
    model = IrisModel()
    path, _ = Registry(registry_root).open("iris", "v1")
    model.load(path)
    return [p.model_dump() for p in model.predict([IrisFeatures(**row) for row in ROWS])]


def assert_same(actual: list[dict], expected: list[dict]) -> None:
    """Same species; probabilities equal up to BLAS rounding (batch vs single row)."""
    assert [a["species"] for a in actual] == [e["species"] for e in expected]
    for a, e in zip(actual, expected, strict=True):
        assert a["probabilities"] == pytest.approx(e["probabilities"], rel=1e-9, abs=1e-12)


def oip_request(rows: list[dict]) -> dict:
    return {
        "inputs": [
            {"name": f, "shape": [len(rows)], "datatype": "FP64", "data": [r[f] for r in rows]}
            for f in FEATURES
        ]
    }


def test_typed_predictions_match_the_model_for_every_iris_row(
    client: httpx.Client, direct: list[dict]
) -> None:
    for row, expected in zip(ROWS, direct, strict=True):
        response = client.post("/v1/models/iris/predict", json=row)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["model"], body["version"]) == ("iris", "v1")
        assert_same(body["predictions"], [expected])


def test_bulk_prediction_equals_one_by_one(client: httpx.Client, direct: list[dict]) -> None:
    response = client.post("/v1/models/iris/predict", json={"instances": ROWS})
    assert response.status_code == 200, response.text
    assert_same(response.json()["predictions"], direct)


def test_oip_inference_matches_the_model_for_every_iris_row(
    client: httpx.Client, direct: list[dict]
) -> None:
    response = client.post("/v2/models/iris/infer", json={"id": "all", **oip_request(ROWS)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("iris", "v1", "all")
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["species"]["data"] == [d["species"] for d in direct]
    probabilities = np.array(outputs["probabilities"]["data"]).reshape(
        outputs["probabilities"]["shape"]
    )
    expected = np.array([list(d["probabilities"].values()) for d in direct])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-9, atol=1e-12)


def test_oip_versioned_path_and_nested_data_are_accepted(client: httpx.Client) -> None:
    request = oip_request(ROWS[:2])
    request["inputs"][0] |= {
        "shape": [2, 1],
        "data": [[ROWS[0]["sepal_length"]], [ROWS[1]["sepal_length"]]],
    }
    request["outputs"] = [{"name": "species"}]
    response = client.post("/v2/models/iris/versions/v1/infer", json=request)
    assert response.status_code == 400  # [2, 1] is not the declared [-1] shape
    request["inputs"][0] |= {
        "shape": [2],
        "data": [ROWS[0]["sepal_length"], ROWS[1]["sepal_length"]],
    }
    response = client.post("/v2/models/iris/versions/v1/infer", json=request)
    assert response.status_code == 200, response.text
    assert [o["name"] for o in response.json()["outputs"]] == ["species"]


def test_oip_metadata_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/v2").json()["name"] == "modelfleet"
    for path in (
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/iris/ready",
        "/v2/models/iris/versions/v1/ready",
    ):
        response = client.get(path)
        assert (response.status_code, response.content) == (200, b""), path
    metadata = client.get("/v2/models/iris/versions/v1").json()
    assert metadata["versions"] == ["v1"] and metadata["platform"] == "scikit-learn"
    assert {i["name"]: (i["datatype"], i["shape"]) for i in metadata["inputs"]} == {
        f: ("FP64", [-1]) for f in FEATURES
    }
    assert {o["name"]: o["shape"] for o in metadata["outputs"]} == {
        "species": [-1],
        "probabilities": [-1, 3],
    }


def test_typed_metadata_names_artifact_and_schemas(
    client: httpx.Client, registry_root: Path
) -> None:
    body = client.get("/v1/models/iris").json()
    manifest = Registry(registry_root).manifest("iris", "v1")
    assert body["artifact_sha256"] == manifest.sha256
    assert body["framework"] == "scikit-learn" and body["ready"] is True
    assert body["metrics"]["accuracy"] == manifest.metrics["accuracy"]
    assert set(body["input_schema"]["properties"]) == set(FEATURES)


def test_openapi_shows_schemas_with_bounds_and_examples(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert set(body["examples"]) == {"one instance", "bulk"}
    features = spec["components"]["schemas"]["IrisFeatures"]
    assert features["properties"]["petal_width"]["maximum"] == 5
    assert "cm" in features["properties"]["sepal_length"]["description"]
    assert features["additionalProperties"] is False
    assert client.get("/docs").status_code == 200


GOOD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "loc", "error_type"),
    [
        (
            {k: v for k, v in GOOD.items() if k != "petal_width"},
            422,
            ["body", "instance", "petal_width"],
            "missing",
        ),
        (GOOD | {"sepal_width": "wide"}, 422, ["body", "instance", "sepal_width"], "float_type"),
        # JSON types as the schema states them: no number in a string, no boolean number
        (GOOD | {"sepal_width": "3.5"}, 422, ["body", "instance", "sepal_width"], "float_type"),
        (GOOD | {"petal_width": True}, 422, ["body", "instance", "petal_width"], "float_type"),
        (GOOD | {"petal_length": -1.0}, 422, ["body", "instance", "petal_length"], "greater_than"),
        (
            GOOD | {"sepal_length": 99.0},
            422,
            ["body", "instance", "sepal_length"],
            "less_than_equal",
        ),
        (GOOD | {"colour": "blue"}, 422, ["body", "instance", "colour"], "extra_forbidden"),
        ({"instances": []}, 422, ["body", "bulk", "instances"], "too_short"),
        ({"instances": [GOOD] * 257}, 422, ["body", "bulk", "instances"], "too_long"),
        (
            {"instances": [GOOD, GOOD | {"petal_width": None}]},
            422,
            ["body", "bulk", "instances", 1, "petal_width"],
            "float_type",
        ),
    ],
    ids=[
        "missing-field",
        "wrong-type",
        "number-in-a-string",
        "boolean-number",
        "below-range",
        "above-range",
        "extra-field",
        "empty-bulk",
        "oversized-bulk",
        "bad-bulk-row",
    ],
)
def test_bad_typed_input_names_the_problem(
    client: httpx.Client, body: dict, status: int, loc: list, error_type: str
) -> None:
    response = client.post("/v1/models/iris/predict", json=body)
    assert response.status_code == status
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == error_type for e in errors), errors


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(client: httpx.Client, literal: str) -> None:
    raw = json.dumps(GOOD).replace("5.1", literal)
    response = client.post("/v1/models/iris/predict", content=raw, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "finite_number"


def test_malformed_json_is_a_client_error(client: httpx.Client) -> None:
    response = client.post(
        "/v1/models/iris/predict", content=b'{"sepal_length": 5.1,', headers=JSON
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_a_body_that_is_not_utf8_is_a_clear_400(client: httpx.Client) -> None:
    response = client.post("/v1/models/iris/predict", content=b'{"\xff": 1}', headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": "the body is not UTF-8, as JSON must be"}


def test_a_missing_body_is_named_rather_than_its_media_type(client: httpx.Client) -> None:
    response = client.post("/v1/models/iris/predict")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"


def test_wrong_media_type_is_415(client: httpx.Client) -> None:
    response = client.post(
        "/v1/models/iris/predict", content=json.dumps(GOOD), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413_json(client: httpx.Client, chunked: bool) -> None:
    payload = json.dumps({"instances": [GOOD] * 20_000}).encode()
    content = (
        iter([payload[i : i + 65536] for i in range(0, len(payload), 65536)])
        if chunked
        else payload
    )
    response = client.post("/v1/models/iris/predict", content=content, headers=JSON)
    assert response.status_code == 413
    assert "limit of 1048576 bytes" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v1/models/tulip/predict", 404, "unknown model 'tulip'"),
        ("/v2/models/tulip/infer", 404, "unknown model 'tulip'"),
        ("/v2/models/iris/versions/v7/infer", 404, "no version 'v7'"),
        ("/v1/models/iris/explain", 404, "no route"),
    ],
)
def test_unknown_model_version_or_route_is_404(
    client: httpx.Client, path: str, status: int, message: str
) -> None:
    response = client.post(path, json={})
    assert response.status_code == status
    assert message in response.json()["error"]


def _tensor(name: str, shape: list[int], datatype: str, data: list) -> dict:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def _oip_with(first: dict) -> dict:
    request = oip_request([GOOD])
    request["inputs"][0] = first
    return request


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (_oip_with(_tensor("sepal_length", [2], "FP64", [5.1])), "shape [2] needs 2 values, data has 1"),
        (_oip_with(_tensor("sepal_length", [1, 4], "FP64", [5.1] * 4)), "has shape [1, 4]; this model expects [-1]"),
        (_oip_with(_tensor("sepal_length", [1], "FP32", [5.1])), "datatype FP32; this model expects FP64"),
        (_oip_with(_tensor("sepal_length", [1], "FP128", [5.1])), "datatype"),
        (_oip_with(_tensor("stem_length", [1], "FP64", [5.1])), "unknown input 'stem_length'"),
        (_oip_with(_tensor("sepal_length", [1], "FP64", ["long"])), "'long' is not a FP64 value"),
        (_oip_with(_tensor("sepal_length", [1], "FP64", [-3.0])), "row 0: sepal_length: Input should be greater than 0"),
        ({"inputs": oip_request([GOOD])["inputs"][1:]}, "missing input(s) ['sepal_length']"),
        ({"inputs": oip_request([GOOD])["inputs"][:3] + oip_request([GOOD, GOOD])["inputs"][3:]}, "batch size 2"),
        ({"inputs": []}, "inputs"),
        ({**oip_request([GOOD]), "outputs": [{"name": "colour"}]}, "unknown output(s) ['colour']"),
    ],
    ids=["data-length", "shape-rank", "wrong-datatype", "unknown-datatype", "unknown-input", "value-type",
         "out-of-range", "missing-input", "batch-mismatch", "no-inputs", "unknown-output"],
)  # fmt: skip
def test_bad_oip_request_is_400_with_a_message(
    client: httpx.Client, request_body: dict, message: str
) -> None:
    response = client.post("/v2/models/iris/infer", json=request_body)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/vnd.oip+json"]
)
def test_oip_json_is_read_without_or_with_any_json_content_type(
    client: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps(oip_request([GOOD])).encode()
    response = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == ["setosa"]


def test_oip_other_media_types_are_415_naming_what_is_read(client: httpx.Client) -> None:
    body = json.dumps(oip_request([GOOD]))
    response = client.post(
        "/v2/models/iris/infer", content=body, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 415
    assert response.json() == {
        "error": "content type 'text/csv' is not supported here; send JSON, or "
        "application/octet-stream with Inference-Header-Content-Length"
    }


def _binary_request(rows: list[dict], **request: Any) -> tuple[bytes, dict[str, str]]:
    """An OIP request with every input in binary, as the extension frames it."""
    tensors = [
        {"name": f, "shape": [len(rows)], "datatype": "FP64",
         "parameters": {"binary_data_size": 8 * len(rows)}}
        for f in FEATURES
    ]  # fmt: skip
    header = json.dumps({"inputs": tensors, **request}).encode()
    data = b"".join(np.array([r[f] for r in rows], "<f8").tobytes() for f in FEATURES)
    headers = {"content-type": "application/octet-stream",
               "inference-header-content-length": str(len(header))}  # fmt: skip
    return header + data, headers


def test_oip_binary_inputs_and_outputs_are_framed_per_the_extension(
    client: httpx.Client, direct: list[dict]
) -> None:
    body, headers = _binary_request(ROWS[:3], outputs=[
        {"name": "probabilities", "parameters": {"binary_data": True}}, {"name": "species"},
    ])  # fmt: skip
    response = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    length = int(response.headers["inference-header-content-length"])
    header = json.loads(response.content[:length])
    probabilities, species = header["outputs"]
    assert probabilities["parameters"] == {"binary_data_size": 3 * 3 * 8}
    assert "data" not in probabilities and species["data"] == [d["species"] for d in direct[:3]]
    expected = [list(d["probabilities"].values()) for d in direct[:3]]
    got = np.frombuffer(response.content[length:], "<f8").reshape(3, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def _reframed(body: bytes, headers: dict[str, str], change: Any) -> tuple[bytes, dict[str, str]]:
    """The same binary request with its JSON header changed by `change(header)`."""
    length = int(headers["inference-header-content-length"])
    header = json.loads(body[:length])
    change(header)
    new = json.dumps(header).encode()
    return new + body[length:], {**headers, "inference-header-content-length": str(len(new))}


def _size(index: int, size: int) -> Any:
    return lambda h: h["inputs"][index]["parameters"].update(binary_data_size=size)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_size(3, 16), "'petal_width': binary_data_size 16 runs past the end of the 32 bytes"),
        (_size(3, 0), "8 bytes of binary data belong to no input"),
        (_size(0, 4), "4 bytes of binary data are no whole number of FP64 elements"),
        (lambda h: h["inputs"][0].update(data=[5.1]), "has both data and binary_data_size"),
        (lambda h: h["inputs"][0].pop("parameters"), "has neither data nor binary_data_size"),
        (lambda h: h["inputs"][0]["parameters"].update(shared_memory_region="r"),
         "the shared-memory extension is not supported"),
        (lambda h: h.update(outputs=[{"name": "species"}, {"name": "species"}]),
         "asked for twice"),
        (lambda h: h.update(parameters={"binary_data_output": "yes"}), "valid boolean"),
    ],
    ids=["size-past-the-end", "bytes-left-over", "partial-element", "data-and-size",
         "no-data", "shared-memory", "output-twice", "non-boolean-flag"],
)  # fmt: skip
def test_bad_binary_framing_is_400_with_a_message(
    client: httpx.Client, change: Any, message: str
) -> None:
    body, headers = _reframed(*_binary_request([GOOD]), change)
    response = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_header_length_beyond_the_body_is_400(client: httpx.Client) -> None:
    body, headers = _binary_request([GOOD])
    headers["inference-header-content-length"] = str(len(body) + 1)
    response = client.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 400
    assert "is not a length within the" in response.json()["error"]


def test_responses_carry_request_and_trace_ids(client: httpx.Client) -> None:
    response = client.post(
        "/v1/models/iris/predict", json=GOOD, headers={"X-Request-Id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    assert len(response.headers["x-trace-id"]) == 32
    generated = client.post("/v1/models/iris/predict", json=GOOD).headers["x-request-id"]
    assert len(generated) == 32 and generated != "abc-123"


def test_service_logs_are_json_with_the_request_id(client: httpx.Client, service: Server) -> None:
    client.post("/v1/models/iris/predict", json=GOOD, headers={"X-Request-Id": "log-check-1"})

    def access() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in service.output().splitlines() if line.startswith("{")]
        return [entry for entry in lines if entry.get("request_id") == "log-check-1"]

    # The access line is written after the answer went out, so it may land a moment later.
    wait_until(lambda: bool(access()), 10, "the access log line of request log-check-1")
    assert access()[0]["status"] == 200 and access()[0]["trace_id"]

"""tritonclient (the reference Open Inference Protocol client) against every model service
of the values file and through the gateway: metadata, health, and inference with JSON and
binary tensors (pictures as UINT8 tensors), whose answers must equal the typed endpoint's
for the same inputs."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from PIL import Image
from pydantic import BaseModel
from tritonclient.utils import triton_to_np_dtype

from services.runtime.imaging import from_data_url
from services.runtime.registry import Registry
from services.runtime.service import model_class

from .conftest import MODELS, Fleet

JSON = "application/json"
FORM = "multipart/form-data"
VIAS = ("direct", "gateway")
# json: tensors in the JSON, outputs asked for as JSON; binary: tritonclient's default
# (binary inputs, every output binary); mixed: binary inputs, the first output as JSON.
MODES = ("json", "binary", "mixed")


def _first(model: str) -> str:
    return MODELS[model][0]


def _url(fleet: Fleet, via: str, model: str) -> str:
    return fleet.gateway if via == "gateway" else fleet.services[model][_first(model)]


def _client(url: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url.removeprefix("http://"), network_timeout=30.0)


@functools.cache
def _predict_body(url: str) -> dict[str, Any]:
    """The typed predict's request body content, by media type, from the OpenAPI."""
    spec = httpx.get(f"{url}/openapi.json", timeout=10).json()
    content: dict[str, Any] = spec["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"][
        "content"
    ]
    for body in content.values():
        ref = body["schema"].get("$ref", "")
        if ref:
            body["schema"] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return content


def _part(name: str, value: Any, form: dict[str, Any]) -> list[tuple[str, Any]]:
    """One field of a form, as a client reads OpenAPI's multipart encoding: a picture
    (a binary property) is a file, a JSON-encoded field JSON text, a list repeated parts."""
    if form["schema"]["properties"][name].get("format") == "binary":
        payload, media_type = from_data_url(value)
        return [(name, (f"{name}.png", payload, media_type))]
    if form.get("encoding", {}).get(name, {}).get("contentType") == JSON:
        return [(name, (None, json.dumps(value)))]
    values = value if isinstance(value, list) else [value]
    return [(name, (None, v if isinstance(v, str) else json.dumps(v))) for v in values]


def _predictions(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"])


def _typed(
    fleet: Fleet, via: str, model: str, examples: list[dict], version: str
) -> list[Any] | None:
    """The typed endpoint's predictions for `examples` (one form per example where predict
    takes a form), or None where it takes uploads the examples are not (digits' files)."""
    path = f"/models/{model}/predict" if via == "gateway" else f"/v1/models/{model}/predict"
    post = functools.partial(
        httpx.post, _url(fleet, via, model) + path, timeout=30,
        headers={"X-Model-Version": version, "Accept": JSON},
    )  # fmt: skip
    content = _predict_body(fleet.services[model][_first(model)])
    if JSON in content:
        return _predictions(post(json={"instances": examples}))
    form = content[FORM]
    if not all(set(example) <= set(form["schema"]["properties"]) for example in examples):
        return None
    return [
        prediction
        for example in examples
        for prediction in _predictions(
            post(files=[part for n, v in example.items() for part in _part(n, v, form)])
        )
    ]


def _expected(
    fleet: Fleet, registry: Path, via: str, model: str, examples: list[dict], version: str
) -> list[Any]:
    """The typed endpoint's predictions; for a model whose typed predict takes uploads
    only (digits), those of the same artifact run here on the same inputs."""
    typed = _typed(fleet, via, model, examples, version)
    if typed is not None:
        return typed
    served = model_class(model)()
    served.load(Registry(registry).open(model, version)[0])
    inputs = [served.Input.model_validate(example) for example in examples]
    return [output.model_dump() for output in served.predict(inputs)]


def _examples(fleet: Fleet, model: str, metadata: dict) -> list[tuple[dict, BaseModel]]:
    """The input schema's examples that give every OIP input (e.g. styles' blend: a style
    by name is no `weights` tensor), each with the input it validates to."""
    url = fleet.services[model][_first(model)]
    schema = httpx.get(f"{url}/v1/models/{model}", timeout=10).json()["input_schema"]
    names = [spec["name"] for spec in metadata["inputs"]]
    validated = [(e, model_class(model).Input.model_validate(e)) for e in schema["examples"]]
    given = [(e, row) for e, row in validated if all(getattr(row, n) is not None for n in names)]
    assert given, f"no example of {model} gives every OIP input {names}"
    return given


def _inputs(metadata: dict, rows: list[BaseModel], binary: bool) -> list[triton.InferInput]:
    inputs = []
    for spec in metadata["inputs"]:
        values = [getattr(row, spec["name"]) for row in rows]
        array = np.array(values, dtype=triton_to_np_dtype(spec["datatype"]))
        dims = spec["shape"][1:]
        if -1 not in dims:  # e.g. digits' flat 64 pixels as [-1, 8, 8]
            array = array.reshape([len(rows), *dims])
        tensor = triton.InferInput(spec["name"], list(array.shape), spec["datatype"])
        inputs.append(tensor.set_data_from_numpy(array, binary_data=binary))
    return inputs


def _outputs(metadata: dict, mode: str) -> list[triton.InferRequestedOutput] | None:
    names = [spec["name"] for spec in metadata["outputs"]]
    if mode == "binary":
        return None  # tritonclient then asks for every output in binary
    binary = [mode == "mixed" and index > 0 for index in range(len(names))]
    return [
        triton.InferRequestedOutput(n, binary_data=b) for n, b in zip(names, binary, strict=True)
    ]


def _value(value: Any) -> Any:
    """A typed answer's value as a tensor row: a picture (a PNG data URL) as its pixels."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, str) and value.startswith("data:image/"):
        with Image.open(io.BytesIO(from_data_url(value)[0])) as picture:
            return np.asarray(picture)
    return value


def _column(predictions: list[dict], name: str) -> np.ndarray:
    rows = [_value(p[name]) for p in predictions]
    return np.array(rows).reshape(len(rows), -1)


def _as_text(array: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v, otypes=[object])(array)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(map(_is_text, value)))


@pytest.mark.parametrize("server", [*MODELS, "gateway"])
def test_server_metadata_and_health(fleet: Fleet, server: str) -> None:
    client = _client(fleet.gateway if server == "gateway" else _url(fleet, "direct", server))
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    assert client.is_server_live() and client.is_server_ready()


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("model", MODELS)
def test_model_metadata_and_readiness(fleet: Fleet, via: str, model: str) -> None:
    client = _client(_url(fleet, via, model))
    version = _first(model)
    direct = fleet.services[model][version]
    ours = httpx.get(f"{direct}/v2/models/{model}", timeout=10).json()
    assert client.get_model_metadata(model, version) == ours
    assert client.get_model_metadata(model)["name"] == model
    assert client.is_model_ready(model) and client.is_model_ready(model, version)
    assert not client.is_model_ready(model, "v99")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pinned", [False, True], ids=["latest", "pinned"])
@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("model", MODELS)
def test_inference_equals_the_typed_answer(
    fleet: Fleet, registry_root: Path, model: str, via: str, pinned: bool, mode: str
) -> None:
    client = _client(_url(fleet, via, model))
    version = _first(model) if pinned else ""
    metadata = client.get_model_metadata(model, _first(model))
    examples = _examples(fleet, model, metadata)
    result = client.infer(
        model, _inputs(metadata, [row for _, row in examples], binary=mode != "json"),
        model_version=version, outputs=_outputs(metadata, mode), request_id=f"{model}-{mode}",
    )  # fmt: skip
    answer = result.get_response()
    assert (answer["model_name"], answer["id"]) == (model, f"{model}-{mode}")
    assert answer["model_version"] == (version or answer["model_version"])
    binary = {o["name"] for o in answer["outputs"] if "binary_data_size" in o.get("parameters", {})}
    names = [spec["name"] for spec in metadata["outputs"]]
    assert binary == {"json": set(), "binary": set(names), "mixed": set(names[1:])}[mode]
    typed = _expected(
        fleet, registry_root, via, model, [e for e, _ in examples], answer["model_version"]
    )
    for spec in metadata["outputs"]:
        got = result.as_numpy(spec["name"]).reshape(len(examples), -1)
        values = [prediction[spec["name"]] for prediction in typed]
        if spec["datatype"] == "BYTES" and not _is_text(values):
            # A field holding schemas (segment's regions): one JSON text per row.
            assert [json.loads(text) for text in _as_text(got).ravel()] == values
            continue
        expected = _column(typed, spec["name"])
        if spec["datatype"] == "BYTES":
            assert _as_text(got).tolist() == expected.tolist()
        elif spec["datatype"] == "FP32":
            # Batched with other requests, a transformer pads to another length and
            # BLAS sums in another order: float32 rounding, not a different answer.
            np.testing.assert_allclose(got, expected.astype(got.dtype), rtol=1e-4, atol=1e-6)
        else:
            np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=1e-9)

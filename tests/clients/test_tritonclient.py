"""tritonclient (the reference Open Inference Protocol client) against every model service
and through the gateway: metadata, health, and inference with JSON and binary tensors,
whose answers must equal the typed endpoint's for the same inputs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import triton_to_np_dtype

from services.runtime.registry import Registry
from services.runtime.service import model_class

from .conftest import Fleet

JSON = "application/json"
MODELS = ("iris", "digits", "minilm")
VIAS = ("direct", "gateway")
# json: tensors in the JSON, outputs asked for as JSON; binary: tritonclient's default
# (binary inputs, every output binary); mixed: binary inputs, the first output as JSON.
MODES = ("json", "binary", "mixed")


def _url(fleet: Fleet, via: str, model: str) -> str:
    return fleet.gateway if via == "gateway" else fleet.services[model]["v1"]


def _client(url: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url.removeprefix("http://"), network_timeout=30.0)


def _typed(fleet: Fleet, via: str, model: str, instances: list[Any], version: str) -> list[Any]:
    path = f"/models/{model}/predict" if via == "gateway" else f"/v1/models/{model}/predict"
    response = httpx.post(
        _url(fleet, via, model) + path, json={"instances": instances},
        headers={"X-Model-Version": version}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"])


@functools.cache
def _takes_json(url: str) -> bool:
    spec = httpx.get(f"{url}/openapi.json", timeout=10).json()
    return JSON in spec["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"]["content"]


def _expected(
    fleet: Fleet, registry: Path, via: str, model: str, examples: list[Any], version: str
) -> list[Any]:
    """The typed endpoint's predictions; for a model whose typed predict takes uploads
    only (digits), those of the same artifact run here on the same inputs."""
    if _takes_json(fleet.services[model]["v1"]):
        return _typed(fleet, via, model, examples, version)
    served = model_class(model)()
    served.load(Registry(registry).open(model, version)[0])
    inputs = [served.Input.model_validate(example) for example in examples]
    return [output.model_dump() for output in served.predict(inputs)]


def _examples(fleet: Fleet, model: str) -> list[dict[str, Any]]:
    metadata = httpx.get(f"{fleet.services[model]['v1']}/v1/models/{model}", timeout=10).json()
    return list(metadata["input_schema"]["examples"])


def _inputs(metadata: dict, examples: list[dict], binary: bool) -> list[triton.InferInput]:
    inputs = []
    for spec in metadata["inputs"]:
        values = [example[spec["name"]] for example in examples]
        array = np.array(values, dtype=triton_to_np_dtype(spec["datatype"]))
        array = array.reshape([len(examples), *spec["shape"][1:]])
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


def _column(predictions: list[dict], name: str) -> np.ndarray:
    rows = [p[name] for p in predictions]
    rows = [list(r.values()) if isinstance(r, dict) else r for r in rows]
    return np.array(rows).reshape(len(rows), -1)


def _as_text(array: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v, otypes=[object])(array)


@pytest.mark.parametrize("server", [*MODELS, "gateway"])
def test_server_metadata_and_health(fleet: Fleet, server: str) -> None:
    client = _client(fleet.gateway if server == "gateway" else fleet.services[server]["v1"])
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    assert client.is_server_live() and client.is_server_ready()


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("model", MODELS)
def test_model_metadata_and_readiness(fleet: Fleet, via: str, model: str) -> None:
    client = _client(_url(fleet, via, model))
    ours = httpx.get(f"{fleet.services[model]['v1']}/v2/models/{model}", timeout=10).json()
    assert client.get_model_metadata(model, "v1") == ours
    assert client.get_model_metadata(model)["name"] == model
    assert client.is_model_ready(model) and client.is_model_ready(model, "v1")
    assert not client.is_model_ready(model, "v99")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("version", ["", "v1"], ids=["latest", "pinned"])
@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("model", MODELS)
def test_inference_equals_the_typed_answer(
    fleet: Fleet, registry_root: Path, model: str, via: str, version: str, mode: str
) -> None:
    client = _client(_url(fleet, via, model))
    metadata = client.get_model_metadata(model, "v1")
    examples = _examples(fleet, model)
    result = client.infer(
        model, _inputs(metadata, examples, binary=mode != "json"), model_version=version,
        outputs=_outputs(metadata, mode), request_id=f"{model}-{mode}",
    )  # fmt: skip
    answer = result.get_response()
    assert (answer["model_name"], answer["id"]) == (model, f"{model}-{mode}")
    assert answer["model_version"] == (version or answer["model_version"])
    binary = {o["name"] for o in answer["outputs"] if "binary_data_size" in o.get("parameters", {})}
    names = [spec["name"] for spec in metadata["outputs"]]
    assert binary == {"json": set(), "binary": set(names), "mixed": set(names[1:])}[mode]
    typed = _expected(fleet, registry_root, via, model, examples, answer["model_version"])
    for spec in metadata["outputs"]:
        got = result.as_numpy(spec["name"]).reshape(len(examples), -1)
        expected = _column(typed, spec["name"])
        if spec["datatype"] == "BYTES":
            assert _as_text(got).tolist() == expected.tolist()
        else:
            np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=1e-9)

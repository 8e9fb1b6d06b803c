"""What a model author writes: one `Model` subclass with pydantic schemas.

    class Iris(Model[IrisFeatures, IrisPrediction]):
        name = "iris"
        framework = "scikit-learn"
        Input = IrisFeatures
        Output = IrisPrediction

        def load(self, path: Path) -> None: ...
        def predict(self, batch: list[IrisFeatures]) -> list[IrisPrediction]: ...

The runtime gives it typed and Open Inference Protocol endpoints, probes,
metrics, tracing and batching. A model never does network I/O and never sees
HTTP: raw payloads (image bytes) reach it through `preprocess`, or as the
numpy arrays of `pictures.Image` fields (uploaded as multipart files); extra
operations through `actions`, which may stream their results one by one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .tensors import TensorSpec

__all__ = ["Action", "Model", "Schema"]


class Schema(BaseModel):
    """Base for input/output schemas: unknown fields and NaN/Infinity are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


InputT = TypeVar("InputT", bound=Schema)
OutputT = TypeVar("OutputT", bound=Schema)


@dataclass(frozen=True)
class Action:
    """A model-specific typed operation, served at `POST /v1/models/{name}/{path}`.

    `method` names a method of the model taking one `request` and returning
    one `response`; it runs in the model thread. With `stream=True` the method is
    a generator yielding `response`s: each is sent as one NDJSON line as soon as it
    exists, and the generator is closed (no further results computed) when the
    client goes away.
    """

    path: str
    request: type[Schema]
    response: type[Schema]
    method: str
    summary: str
    stream: bool = False


class Model(ABC, Generic[InputT, OutputT]):
    name: ClassVar[str]
    framework: ClassVar[str]
    Input: ClassVar[type[Schema]]
    Output: ClassVar[type[Schema]]
    actions: ClassVar[tuple[Action, ...]] = ()
    raw_media_types: ClassVar[tuple[str, ...]] = ()
    """Media types `preprocess` accepts as multipart `file` uploads on predict."""
    query_predict: ClassVar[bool] = False
    """Also serve `GET .../predict?field=value&...` (the input must be flat scalars)."""
    oip_inputs: ClassVar[tuple[TensorSpec, ...]] = ()
    """OIP input tensors, when those derived from `Input` field by field do not fit
    (e.g. one `[-1, 8, 8]` image tensor whose rows validate as a flat list field)."""

    def __init__(self, *, torch_threads: int = 1) -> None:
        self.torch_threads = torch_threads

    def prepare_thread(self) -> None:
        """Runs first in the model's own thread, before `load`.

        The runtime calls `load`, the warm-up, `predict` and every action from one
        thread, so these never run concurrently with each other (tokenizers and
        many native libraries are not thread-safe) and per-thread library state is
        set once: torch models set torch's thread count here, because with OpenMP
        it belongs to the OS thread that sets it. `preprocess` is the exception: it
        decodes uploads in a worker pool, beside inference, so it must not touch
        state that `load` or `predict` change.
        """

    @abstractmethod
    def load(self, path: Path) -> None:
        """Read the verified artifact directory of the version to serve."""

    @abstractmethod
    def predict(self, batch: list[InputT]) -> list[OutputT]:
        """One output per input, in order. Called with 1..max_batch_size inputs."""

    def preprocess(self, payload: bytes, media_type: str) -> InputT:
        """Turn one raw upload into a validated input (raise Unprocessable if you can't).

        Runs in a worker pool, possibly for several uploads at once and beside
        `predict`: decode from `payload` alone, without model state."""
        raise TypeError(f"{self.name} declares no raw_media_types, so it takes no raw payloads")

    def warmup_inputs(self) -> list[InputT]:
        """Inputs for the warm-up prediction that gates readiness: the schema's examples."""
        examples = (self.Input.model_config.get("json_schema_extra") or {}).get("examples", [])
        if not examples:
            raise TypeError(f"{self.Input.__name__} needs json_schema_extra examples for warm-up")
        return [self.Input.model_validate(example) for example in examples]  # type: ignore[misc]

    def action(self, action: Action) -> Callable[[Any], Any]:
        return getattr(self, action.method)

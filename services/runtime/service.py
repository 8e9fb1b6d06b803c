"""One served model version: loading, readiness, and the path to the batcher.

Loading happens in the background after start-up so `/healthz` answers at
once even for large models; readiness turns true only when the artifact has
been verified, loaded, and a warm-up prediction succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from threadpoolctl import threadpool_limits

from .batching import AdaptiveBatcher
from .errors import ModelNotFound, NotReady, VersionNotFound
from .metrics import ServiceMetrics
from .model import Action, Model
from .operations import describe_operations
from .registry import Manifest, Registry
from .settings import RuntimeSettings
from .tensors import TensorSpec, specs_for
from .workers import WorkerReadiness

__all__ = ["ModelService", "model_class"]

logger = logging.getLogger("modelfleet.service")


def model_class(name: str) -> type[Model[Any, Any]]:
    """The `Model` subclass exported by the package `services.<name>`."""
    module = importlib.import_module(f"services.{name}")
    cls = getattr(module, "Model", None)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError(f"services.{name} must export its Model subclass as `Model`")
    return cls


_END = object()
"""What the model thread answers when a streaming action has no more results."""

# How a request refused by `require_ready` is told why; any other reason is a load failure.
_REFUSALS = {"draining": "is shutting down", "loading": "is still loading"}


def _prepare_model_thread(model: Model[Any, Any]) -> None:
    """Cap the native thread pools, then let the model prepare its thread.

    OpenMP and BLAS pools (scikit-learn's boosted trees, numpy) default to every
    core of the node, not the pod's share; on a busy machine their threads wait on
    each other for seconds. The OpenMP cap is per calling thread, hence here.
    """
    threadpool_limits(limits=model.torch_threads)
    model.prepare_thread()


class ModelService:
    def __init__(self, settings: RuntimeSettings, model: Model[Any, Any]) -> None:
        self.settings = settings
        self.model = model
        self.metrics = ServiceMetrics(
            settings.model, settings.version, ready=lambda: self.unready_reason() is None
        )
        self.registry = Registry(settings.registry)
        self.manifest: Manifest | None = None
        self.artifact: Path | None = None
        self.failure: str | None = None
        self.draining = False
        self.input_specs: list[TensorSpec] = list(model.oip_inputs) or specs_for(model.Input)
        self.output_specs: list[TensorSpec] = specs_for(model.Output)
        self.operations = describe_operations(type(model))
        self._ready = asyncio.Event()
        self.workers = WorkerReadiness.from_environment()
        self._loader: asyncio.Task[None] | None = None
        # All model code runs in this one thread: see Model.prepare_thread.
        self._model_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="model", initializer=_prepare_model_thread,
            initargs=(model,),
        )  # fmt: skip
        batching = settings.batching
        self.batcher: AdaptiveBatcher[BaseModel, BaseModel] = AdaptiveBatcher(
            model.predict,
            executor=self._model_thread,
            max_batch_size=batching.max_batch_size,
            max_wait_ms=batching.max_wait_ms,
            max_queue=batching.max_queue,
            observer=self.metrics,
        )

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def version(self) -> str:
        return self.settings.version

    def _worker_unready(self) -> str | None:
        """Why this worker cannot answer predictions; None when it can."""
        if self.draining:
            return "draining"
        if not self._ready.is_set():
            return self.failure or "loading"
        return None

    def unready_reason(self) -> str | None:
        """Why the server (every worker) should get no traffic yet; None when it should."""
        reason = self._worker_unready()
        if reason is not None:
            return reason
        loading, count = self.workers.loading()
        return f"{loading} of {count} workers still loading" if loading else None

    async def start(self) -> None:
        await self.batcher.start()
        self._loader = asyncio.create_task(self._load(), name="load-model")

    async def stop(self) -> None:
        self.draining = True
        self.workers.mark(ready=False)
        if self._loader is not None:
            self._loader.cancel()
        await self.batcher.stop()
        self._model_thread.shutdown(wait=False, cancel_futures=True)

    async def _in_model_thread(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._model_thread, call, *args)

    async def _load(self) -> None:
        started = time.perf_counter()
        try:
            await self._in_model_thread(self._load_and_warm)
        except Exception as exc:  # any failure keeps the version unready, with the reason
            self.failure = f"{type(exc).__name__}: {exc}"
            logger.error("%s %s will never become ready: %s", self.name, self.version, self.failure)
            return
        seconds = time.perf_counter() - started
        assert self.manifest is not None
        self.metrics.loaded(self.manifest.framework, self.manifest.sha256, seconds)
        self._ready.set()
        self.workers.mark(ready=True)
        logger.info("%s %s ready after %.2fs", self.name, self.version, seconds)

    def _load_and_warm(self) -> None:
        self.artifact, self.manifest = self.registry.open(self.name, self.version)
        self.model.load(self.artifact)
        warmup = self.model.warmup_inputs()
        outputs = self.model.predict(warmup)
        if len(outputs) != len(warmup):
            raise RuntimeError(f"warm-up returned {len(outputs)} outputs for {len(warmup)} inputs")

    def check_target(self, name: str, version: str | None = None) -> None:
        if name != self.name:
            raise ModelNotFound(f"unknown model {name!r}; this service serves {self.name!r}")
        if version is not None and version != self.version:
            raise VersionNotFound(
                f"model {name!r} has no version {version!r} here; this service serves "
                f"{self.version!r}"
            )

    def require_ready(self) -> None:
        """Refuse work this worker cannot do; a ready worker need not wait for siblings."""
        reason = self._worker_unready()
        if reason is not None:
            what = _REFUSALS.get(reason, f"failed to load: {reason}")
            raise NotReady(f"{self.name} {self.version} {what}")

    async def predict(self, items: Sequence[BaseModel]) -> list[BaseModel]:
        self.require_ready()
        return await self.batcher.submit(items)

    async def run_action(self, action: Action, request: BaseModel) -> BaseModel:
        self.require_ready()
        answer: BaseModel = await self._in_model_thread(self.model.action(action), request)
        return answer

    async def stream_action(self, action: Action, request: BaseModel) -> AsyncIterator[BaseModel]:
        """The results of a streaming action, each computed in the model thread on demand.

        Each result is one job of the model thread, so predictions and other streams
        take turns with it. When the consumer stops early (the client went away, so
        the response is cancelled), the generator is closed: nothing more is computed.
        """
        self.require_ready()
        results = self.model.action(action)(request)  # a generator: none of its code runs yet
        try:
            while (item := await self._in_model_thread(self._step, results, action)) is not _END:
                yield action.response.model_validate(item)
        except (asyncio.CancelledError, GeneratorExit):
            self.metrics.stream_cancelled(action.path)
            raise
        finally:
            # A generator runs in the model thread only, its closing too; after shutdown
            # there is no thread left to run it and the process is ending anyway.
            with contextlib.suppress(RuntimeError):
                self._model_thread.submit(results.close)

    def _step(self, results: Iterator[Any], action: Action) -> Any:
        """The next result (counted as computed, even if nobody reads it), or _END."""
        item = next(results, _END)
        if item is not _END:
            self.metrics.stream_result(action.path)
        return item

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "framework": self.model.framework,
            "ready": self.unready_reason() is None,
            "artifact_sha256": self.manifest.sha256 if self.manifest else None,
            "created_at": self.manifest.created_at if self.manifest else None,
            "parent": self.manifest.parent if self.manifest else None,
            "metrics": self.manifest.metrics if self.manifest else {},
            "input_schema": self.model.Input.model_json_schema(),
            "output_schema": self.model.Output.model_json_schema(),
            "operations": self.operations,
            "limits": {
                "max_body_bytes": self.settings.max_body_bytes,
                "max_instances": self.settings.max_instances,
            },
        }

"""The reference app `make bench` measures the runtime against: the same model
behind a minimal hand-written FastAPI app.

    gunicorn --config python:services.runtime.gunicorn_conf 'bench.reference:create_app()'

One async handler on the runtime's predict path takes one typed instance (FastAPI
validates it with the model's own `Input`), runs `predict` on it in one model
thread prepared as the runtime prepares its own (so both use the same threads),
and answers `{"model", "version", "predictions"}`. It is served by the same
gunicorn config (workers, uvicorn worker, sockets, keep-alive) as a model
service, from the same settings, so the two differ by the runtime's own work
alone: metrics, tracing, request ids, the access log, batching, readiness,
negotiation and errors. No bulk, no OIP, no probes but `/readyz`.
"""

# No `from __future__ import annotations`: FastAPI must see the body type as an object.
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from pydantic import TypeAdapter

from services.runtime.settings import RuntimeSettings

from .hosting import HostedModel

__all__ = ["create_app"]


def create_app() -> FastAPI:
    settings = RuntimeSettings()  # type: ignore[call-arg]
    hosted = HostedModel(settings)
    model = hosted.model
    outputs = TypeAdapter(list[model.Output])  # type: ignore[name-defined]
    prefix = f'{{"model":"{settings.model}","version":"{settings.version}","predictions":'

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(hosted.thread, hosted.load)
        yield
        hosted.thread.shutdown(wait=False)

    app = FastAPI(lifespan=lifespan)

    @app.post(f"/v1/models/{settings.model}/predict")
    async def predict(instance: model.Input) -> Response:  # type: ignore[name-defined]
        loop = asyncio.get_running_loop()
        predictions: list[Any] = await loop.run_in_executor(
            hosted.thread, model.predict, [instance]
        )
        body = prefix.encode() + outputs.dump_json(predictions) + b"}"
        return Response(body, media_type="application/json")

    @app.get("/readyz")
    async def readyz() -> dict[str, bool]:
        return {"ready": True}  # lifespan finished: the model is loaded and warmed

    return app

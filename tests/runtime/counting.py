"""A model whose streaming action counts, for tests: a real app under uvicorn.

Run: `uvicorn --factory tests.runtime.counting:create_app_for_tests` with
`COUNTING_REGISTRY` set to a folder (a v1 artifact is published there).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI
from pydantic import ConfigDict, Field

from services.runtime import Action, Model, Schema
from services.runtime.app import create_app
from services.runtime.errors import Unprocessable
from tests.runtime.test_readiness import settings_for

__all__ = ["Counting", "create_app_for_tests"]


class Count(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"to": 1}]})
    to: int = Field(ge=0, le=1000)
    gap: float = Field(0.0, ge=0, le=1, description="Seconds of work before each number")
    fail_at: int | None = Field(None, description="Crash instead of yielding this number")
    refuse: bool = Field(False, description="Refuse the request before the first number")


class Tick(Schema):
    number: int


class Counting(Model[Count, Tick]):
    name = "counting"
    framework = "test"
    Input = Count
    Output = Tick
    actions = (
        Action(path="count", request=Count, response=Tick, method="count", stream=True,
               summary="0, 1, ... to-1, one line each"),
    )  # fmt: skip

    def load(self, path: Path) -> None:
        pass

    def predict(self, batch: list[Count]) -> list[Tick]:
        return [Tick(number=c.to) for c in batch]

    def count(self, request: Count) -> Iterator[Tick]:
        if request.refuse:
            raise Unprocessable("told to refuse")
        for number in range(request.to):
            time.sleep(request.gap)
            if number == request.fail_at:
                raise RuntimeError("told to crash")
            yield Tick(number=number)


def create_app_for_tests() -> FastAPI:
    return create_app(settings_for("counting", Path(os.environ["COUNTING_REGISTRY"])), Counting())

"""The in-process ceiling: the model's own `predict` on full batches, with no HTTP.

One process per gunicorn worker of the layout, each loading the version exactly as
a worker does (`bench.hosting`) and calling `predict` in its model thread on batches
of the configured size, built from the benchmark's own request bodies; all of them
at once, as the workers would run. Instances per second over all processes is what
a service of that layout could answer at best. The processes stay up for the whole
run, so every round measures the ceiling beside the servers' cells.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection

__all__ = ["Ceiling", "running_ceiling"]


def _serve(
    env: Mapping[str, str], bodies: Sequence[bytes], batch_size: int, pipe: Connection
) -> None:
    os.environ.update(env)
    from services.runtime.settings import RuntimeSettings

    from .hosting import HostedModel

    hosted = HostedModel(RuntimeSettings())  # type: ignore[call-arg]
    hosted.thread.submit(hosted.load).result()
    instances = [hosted.model.Input.model_validate_json(body) for body in bodies]
    batches = [
        [instances[(start + i) % len(instances)] for i in range(batch_size)]
        for start in range(0, len(instances), batch_size)
    ]

    def measure(seconds: float) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            batch = batches[done // batch_size % len(batches)]
            hosted.model.predict(batch)
            done += len(batch)
        return done

    pipe.send("ready")
    while (seconds := pipe.recv()) is not None:
        pipe.send(hosted.thread.submit(measure, seconds).result())


class Ceiling:
    def __init__(self, pipes: Sequence[Connection]) -> None:
        self._pipes = pipes

    def instances_per_second(self, seconds: float) -> float:
        """All processes at once for `seconds`; their instances per second, summed."""
        for pipe in self._pipes:
            pipe.send(seconds)
        return sum(pipe.recv() for pipe in self._pipes) / seconds


@contextmanager
def running_ceiling(
    env: Mapping[str, str], bodies: Sequence[bytes], batch_size: int, processes: int
) -> Iterator[Ceiling]:
    """`processes` loaded models (env as a worker's), ready to measure; stopped on exit."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as a worker has
    pipes, children = [], []
    try:
        for _ in range(processes):
            ours, theirs = spawn.Pipe()
            child = spawn.Process(target=_serve, args=(dict(env), bodies, batch_size, theirs))
            child.start()
            pipes.append(ours)
            children.append(child)
        for pipe in pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a ceiling process failed to load its model")
        yield Ceiling(pipes)
    finally:
        for pipe in pipes:
            pipe.send(None)
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()

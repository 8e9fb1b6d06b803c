"""Adaptive batching: concurrent requests share one model call.

Each instance waits in a bounded queue with its own future. One worker task
takes whatever is queued, up to `max_batch_size`, the moment the model is
free, so a lone request never waits for a timer and a busy model gets large
batches; `max_wait_ms` > 0 lets operators trade latency for batch size. A lone
request on an idle model (no window set) is run by its own caller, without the
hop through the worker task, unless the last model call served several requests:
under load, requests that arrive together are the worker's to gather (running the
first alone would cost a model call per batch). The
model runs in the executor it is given (the service's one model thread), off
the event loop, so probes and metrics keep answering while it is busy. A full
queue fails fast with `Overloaded`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from opentelemetry import context, trace

from .errors import Overloaded

__all__ = ["AdaptiveBatcher", "BatchObserver", "BatchTiming"]

In = TypeVar("In")
Out = TypeVar("Out")

tracer = trace.get_tracer("modelfleet.runtime")


@dataclass(frozen=True)
class BatchTiming:
    started_ns: int
    """time.time_ns() when the batch was handed to the model."""
    finished_ns: int
    size: int

    @property
    def seconds(self) -> float:
        return (self.finished_ns - self.started_ns) / 1e9


class BatchObserver:
    """Receives measurements; the metrics module subclasses it."""

    def batch(self, timing: BatchTiming) -> None:
        pass

    def queue_wait(self, seconds: float) -> None:
        pass


@dataclass(slots=True)
class _Pending(Generic[In]):
    item: In
    future: asyncio.Future[tuple[Any, BatchTiming]]
    enqueued_ns: int
    request: int
    """Which `submit` queued it: one request's instances share the number."""


class AdaptiveBatcher(Generic[In, Out]):
    def __init__(
        self,
        predict: Callable[[list[In]], Sequence[Out]],
        *,
        executor: Executor,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue: int,
        observer: BatchObserver | None = None,
    ) -> None:
        self._predict = predict
        self._max_batch_size = max_batch_size
        self._max_wait = max_wait_ms / 1000
        self._max_queue = max_queue
        self._observer = observer or BatchObserver()
        self._queue: asyncio.Queue[_Pending[In]] = asyncio.Queue()
        self._executor = executor
        self._worker: asyncio.Task[None] | None = None
        self._model_busy = asyncio.Lock()
        """Held while a batch is collected and run, by the worker task or a direct caller."""
        self._next: _Pending[In] | None = None
        """The instance the worker took from the queue while the model was busy."""
        self._crowded = False
        """Whether the last model call served more than one request."""
        self._requests = itertools.count()

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def submit(self, items: Sequence[In]) -> list[Out]:
        """Predict `items` (one request's instances), possibly batched with others."""
        if (waiting := self._waiting()) + len(items) > self._max_queue:
            raise Overloaded(
                f"inference queue is full ({waiting} waiting, limit "
                f"{self._max_queue}); retry shortly"
            )
        enqueued_ns = time.time_ns()
        if self._runs_at_once(items):
            async with self._model_busy:
                outputs, timing = await self._call(items, [enqueued_ns])
            _trace_batches(enqueued_ns, [timing])
            return list(outputs)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        request = next(self._requests)
        for item, future in zip(items, futures, strict=True):
            self._queue.put_nowait(_Pending(item, future, enqueued_ns, request))
        # One instance (the usual request) awaits its future; gather costs more.
        results = [await futures[0]] if len(futures) == 1 else await asyncio.gather(*futures)
        _trace_batches(enqueued_ns, {id(t): t for _, t in results}.values())
        return [output for output, _ in results]

    def _runs_at_once(self, items: Sequence[In]) -> bool:
        """Nothing to batch with, no window to wait for, the model is free, and the last
        call was no batch of several requests."""
        return (
            not self._crowded
            and self._max_wait == 0
            and len(items) <= self._max_batch_size
            and self._waiting() == 0
            and not self._model_busy.locked()
        )

    def _waiting(self) -> int:
        """Instances not yet handed to the model."""
        return self._queue.qsize() + (self._next is not None)

    async def _run(self) -> None:
        while True:
            self._next = await self._queue.get()
            async with self._model_busy:
                first, self._next = self._next, None
                await self._execute(await self._collect(first))

    async def _collect(self, first: _Pending[In]) -> list[_Pending[In]]:
        batch = [first]
        deadline = time.perf_counter() + self._max_wait
        while len(batch) < self._max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        # Callers that went away (client disconnect) need no answer.
        return [entry for entry in batch if not entry.future.done()]

    async def _call(
        self, items: Sequence[In], enqueued_ns: Iterable[int]
    ) -> tuple[Sequence[Out], BatchTiming]:
        """One model call on `items`, measured; `enqueued_ns` says since when each waited."""
        started = time.time_ns()
        for enqueued in enqueued_ns:
            self._observer.queue_wait((started - enqueued) / 1e9)
        loop = asyncio.get_running_loop()
        try:
            outputs = await loop.run_in_executor(self._executor, self._predict, list(items))
            if len(outputs) != len(items):
                raise RuntimeError(f"model returned {len(outputs)} outputs for {len(items)} inputs")
        finally:
            timing = BatchTiming(started, time.time_ns(), len(items))
            self._observer.batch(timing)
        return outputs, timing

    async def _execute(self, batch: list[_Pending[In]]) -> None:
        if not batch:
            return
        items = [entry.item for entry in batch]
        self._crowded = len({entry.request for entry in batch}) > 1
        try:
            outputs, timing = await self._call(items, [entry.enqueued_ns for entry in batch])
        except Exception as exc:  # the model failed: every caller in the batch learns why
            for entry in batch:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            return
        for entry, output in zip(batch, outputs, strict=True):
            if not entry.future.done():
                entry.future.set_result((output, timing))


def _trace_batches(enqueued_ns: int, timings: Iterable[BatchTiming]) -> None:
    """Give the request's trace its queue-wait and inference spans after the fact.

    The batch ran in a shared worker, outside any one request's context. A request
    whose span records nothing (sampled out, or none) gets none.
    """
    parent = context.get_current()
    if not trace.get_current_span(parent).is_recording():
        return
    for timing in timings:
        tracer.start_span("queue_wait", parent, start_time=enqueued_ns).end(timing.started_ns)
        attributes = {"modelfleet.batch_size": timing.size}
        span = tracer.start_span(
            "inference", parent, attributes=attributes, start_time=timing.started_ns
        )
        span.end(end_time=timing.finished_ns)

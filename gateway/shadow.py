"""Shadow traffic: fire-and-forget copies to a shadow version, compared with the primary.

A copy is sent only after the caller has its answer, from a background task, so
the caller's response and latency never depend on the shadow. Copies in flight
are bounded; beyond the bound they are dropped and counted, never queued.

Agreement (`modelfleet_gateway_shadow_total{result}`):
- typed answers compare `predictions` pairwise. A prediction with labels (any
  string, integer or boolean field, e.g. iris `species`) agrees when every label
  is equal, whatever its scores; a prediction made only of numbers (embeddings,
  regressions) agrees when each number is within 1e-3 relative of the primary's;
- OIP answers compare each output tensor's `data` by output name, the same way
  (binary tensors read first, `binary.py`);
- `error`: the shadow failed, answered non-2xx, or answered something unparsable.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .binary import document
from .client import Client, Timeouts
from .errors import UpstreamError
from .metrics import GatewayMetrics
from .proxy import Answer, Outbound, call

__all__ = ["ShadowCopy", "ShadowSender", "answers_agree"]

logger = logging.getLogger("gateway.shadow")
Result = Literal["agree", "disagree", "error"]
REL_TOL = 1e-3
ABS_TOL = 1e-6
IDENTITY_FIELDS = frozenset({"model", "version", "model_name", "model_version", "id"})


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def prediction_agrees(primary: Any, shadow: Any) -> bool:
    """Labels decide when there are any; otherwise every number must be close."""
    ours, theirs = dict(_leaves(primary)), dict(_leaves(shadow))
    if ours.keys() != theirs.keys():
        return False
    labels = [path for path, leaf in ours.items() if not isinstance(leaf, float)]
    if labels:
        return all(ours[path] == theirs[path] for path in labels)
    return all(
        isinstance(theirs[p], int | float)
        and math.isclose(ours[p], theirs[p], rel_tol=REL_TOL, abs_tol=ABS_TOL)
        for p in ours
    )


def _outputs(answer: dict[str, Any]) -> dict[str, Any]:
    return {out.get("name"): out.get("data") for out in answer["outputs"]}


def answers_agree(primary: Any, shadow: Any) -> bool:
    """Compare two JSON answers of the same request (typed, OIP, or any other action)."""
    if not (isinstance(primary, dict) and isinstance(shadow, dict)):
        return prediction_agrees(primary, shadow)
    if "predictions" in primary and "predictions" in shadow:
        ours, theirs = primary["predictions"], shadow["predictions"]
        return len(ours) == len(theirs) and all(map(prediction_agrees, ours, theirs))
    if "outputs" in primary and "outputs" in shadow:
        ours, theirs = _outputs(primary), _outputs(shadow)
        return ours.keys() == theirs.keys() and all(
            prediction_agrees(ours[name], theirs[name]) for name in ours
        )
    return prediction_agrees(_payload(primary), _payload(shadow))


def _payload(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the fields that name who answered (they always differ)."""
    return {k: v for k, v in answer.items() if k not in IDENTITY_FIELDS}


def _judge(primary: Answer, answer: Answer) -> Result:
    if not 200 <= answer.status < 300:
        return "error"
    try:
        agree = answers_agree(document(primary), document(answer))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "error"
    return "agree" if agree else "disagree"


@dataclass(frozen=True)
class ShadowCopy:
    """One copy to send: the request, where to, and the primary's answer to compare."""

    model: str
    version: str
    base_url: str
    out: Outbound
    timeout: Timeouts
    primary: Answer


class ShadowSender:
    """Sends shadow copies in background tasks and counts how they compare."""

    def __init__(self, client: Client, metrics: GatewayMetrics, max_inflight: int):
        self._client = client
        self._metrics = metrics
        self._max = max_inflight
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, copy: ShadowCopy) -> None:
        """Start a copy in the background; returns at once."""
        if len(self._tasks) >= self._max:
            self._metrics.shadow_dropped.labels(copy.model, copy.version).inc()
            return
        task = asyncio.create_task(self._run(copy))
        self._tasks.add(task)  # a strong reference, or the loop may drop the task mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _run(self, copy: ShadowCopy) -> None:
        who = f"shadow {copy.model} {copy.version}"
        try:
            answer = await call(self._client, copy.base_url, copy.out, copy.timeout, who)
            result = _judge(copy.primary, answer)
        except UpstreamError as exc:
            logger.debug("shadow call failed", extra={"model": copy.model, "reason": exc.message})
            result = "error"
        self._metrics.shadow.labels(copy.model, copy.version, result).inc()

    async def aclose(self) -> None:
        """Cancel copies still in flight (shutdown must not wait on a slow shadow)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

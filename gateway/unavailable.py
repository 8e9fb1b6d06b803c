"""Why no version of a model can take a request: the reasons and `Retry-After` of the 503.

A version is out when the canary guard holds it, when it is ejected (it kept
failing: it cools down, then waits for its `/readyz` probe, `gateway.probe`), or
when this request tried it and it failed in a way another version might not have
(unreachable, dropped connection, 502, 503). `Retry-After` is the soonest any of
them may answer again: the first probe after its cool-down, its own
`Retry-After`, or else one second.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import NoVersionLeft, UpstreamError
from .guard import GuardStatus
from .probe import PROBE_INTERVAL_SECONDS
from .proxy import Answer

__all__ = ["Failure", "failure_of", "no_version_left"]

SOON = 1.0
_CLIENT_REASONS = {"connect": "is unreachable", "disconnect": "dropped the connection"}


@dataclass(frozen=True)
class Failure:
    """How one version failed this request, and when it says to come back."""

    reason: str
    retry_after: float = SOON


def failure_of(outcome: Answer | UpstreamError) -> Failure:
    if isinstance(outcome, UpstreamError):
        return Failure(_CLIENT_REASONS.get(outcome.reason, outcome.message))
    said = _error_message(outcome)
    return Failure(
        f"answered {outcome.status}" + (f" ({said})" if said else ""), _retry_after(outcome)
    )


def _error_message(answer: Answer) -> str | None:
    if not answer.is_json:
        return None
    try:
        error = json.loads(answer.body).get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) else None


def _retry_after(answer: Answer) -> float:
    for name, value in answer.headers:
        if name.lower() == b"retry-after" and value.isdigit():
            return float(value)
    return SOON


def no_version_left(
    model: str,
    versions: list[str],
    failures: Mapping[str, Failure],
    ejected: Mapping[str, float],
    held: Mapping[str, GuardStatus],
) -> NoVersionLeft:
    """The 503 for `model`, naming each of `versions` with why it is out.

    `ejected` maps an ejected version to its seconds of cool-down left (0 once it
    waits for its probe), `held` a held one to the guard's counts that aborted it,
    `failures` a version this request tried to how it failed."""
    reasons: dict[str, str] = {}
    waits: list[float] = []
    for version in versions:
        # An ejected version is readmitted by the first probe after its cool-down.
        probed = ejected[version] + PROBE_INTERVAL_SECONDS if version in ejected else 0.0
        if version in failures:
            reasons[version] = failures[version].reason
            waits.append(max(failures[version].retry_after, probed))
        elif version in ejected:
            reasons[version] = _ejected(ejected[version])
            waits.append(probed)
        elif version in held:
            status = held[version]
            reasons[version] = (
                f"is held out by the canary guard ({status.errors} errors in "
                f"{status.requests} requests) until the routes change"
            )
    return NoVersionLeft(model, reasons, max(1, math.ceil(min(waits, default=SOON))))


def _ejected(cooling: float) -> str:
    if cooling > 0:
        return f"is ejected after repeated failures, probed again in {math.ceil(cooling)} s"
    return "is ejected after repeated failures, back once its /readyz answers 200"

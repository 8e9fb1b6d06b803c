"""Why no version of a model can take a request: the reasons and `Retry-After` of the 503.

A version is out when the canary guard holds it, when it is ejected (it kept
failing and cools down), or when this request tried it and it failed in a way
another version might not have (unreachable, dropped connection, 502, 503).
`Retry-After` is the soonest any of them may answer again: the end of its
ejection, its own `Retry-After`, or else one second.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import NoVersionLeft, UpstreamError
from .guard import GuardStatus
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

    `ejected` maps a version to its seconds of cool-down left, `held` to the
    guard's counts that aborted it, `failures` to how it failed this request."""
    reasons: dict[str, str] = {}
    waits: list[float] = []
    for version in versions:
        cooling = ejected.get(version, 0.0)
        if version in failures:
            reasons[version] = failures[version].reason
            waits.append(max(failures[version].retry_after, cooling))
        elif cooling:
            reasons[version] = (
                f"is ejected after repeated failures, tried again in {math.ceil(cooling)} s"
            )
            waits.append(cooling)
        elif version in held:
            status = held[version]
            reasons[version] = (
                f"is held out by the canary guard ({status.errors} errors in "
                f"{status.requests} requests) until the routes change"
            )
    return NoVersionLeft(model, reasons, max(1, math.ceil(min(waits, default=SOON))))

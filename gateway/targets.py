"""Map a gateway path onto the model service path and how it may be routed (pure).

    /models/{name}[/{rest}]     -> /v1/models/{name}[/{rest}]
    /v2/models/{name}[/{rest}]  -> /v2/models/{name}[/{rest}]   (OIP, unchanged)

Inference (`POST /models/{name}/{action}`, `GET /models/{name}/predict?...`,
`POST /v2/models/{name}/infer`) is split by weight or sticky key, retried and
shadowed. Everything else (metadata,
job status, training) goes to the stable version unless pinned, because its
answer must come from one place: job status from the version that owns the job.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote

from .errors import BadRequest

__all__ = ["STATEFUL_ACTIONS", "Target", "oip_target", "v1_target"]

# RFC 3986 3.3: what a path segment holds unencoded, besides letters, digits and "-._~".
PATH_SAFE = "/:@!$&'()*+,;="
# Actions with side effects: never split, retried or shadowed (a copy would train twice).
STATEFUL_ACTIONS = frozenset({"train"})
READ_METHODS = frozenset({"GET", "HEAD"})


class Target(NamedTuple):
    """Where a request goes upstream and how it may be routed.

    `spread`: weighted/sticky split (inference) rather than the stable version.
    `retryable`: idempotent, so a failed call may be repeated.
    `shadowable`: an inference call worth copying to the shadow version.
    `path_version`: the version named in the URL (`/v2/.../versions/{v}/...`).
    """

    model: str
    path: str
    """The service's path and the caller's query, percent-encoded as they go out."""
    spread: bool
    retryable: bool
    shadowable: bool
    path_version: str | None = None


def _path(prefix: str, rest: str, query: str) -> str:
    if rest and any(part in ("", ".", "..") for part in rest.split("/")):
        # A dot segment would climb out of the model's prefix once the URL is normalised.
        raise BadRequest(f"invalid path segment in {rest!r}")
    # Path parameters arrive decoded: encoded again, a "?" or "%" in a segment stays in it.
    path = quote(f"{prefix}/{rest}" if rest else prefix, safe=PATH_SAFE)
    return f"{path}?{query}" if query else path


def _target(model: str, path: str, method: str, inference: bool, version: str | None) -> Target:
    return Target(
        model=model,
        path=path,
        spread=inference,
        retryable=inference or method in READ_METHODS,
        shadowable=inference,
        path_version=version,
    )


def v1_target(method: str, model: str, rest: str, query: str = "") -> Target:
    """`/models/{model}/{rest}`: a single-segment POST other than training is inference,
    and so is a query-parameter predict (`GET .../predict?...`)."""
    action = bool(rest) and "/" not in rest and rest not in STATEFUL_ACTIONS
    inference = action and (method == "POST" or (method == "GET" and rest == "predict"))
    return _target(model, _path(f"/v1/models/{model}", rest, query), method, inference, None)


def oip_target(method: str, model: str, rest: str, query: str = "") -> Target:
    """`/v2/models/{model}/{rest}`: `[versions/{v}/]infer` by POST is inference."""
    parts = rest.split("/") if rest else []
    version = None
    if len(parts) >= 2 and parts[0] == "versions":
        version, parts = parts[1], parts[2:]
    inference = method == "POST" and parts == ["infer"]
    return _target(model, _path(f"/v2/models/{model}", rest, query), method, inference, version)

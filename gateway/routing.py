"""Version choice as pure functions: no I/O, no clocks, randomness passed in.

- weighted split: a uniform draw in [0, 1) walks the cumulative weights;
- pinning: `X-Model-Version` (or `/v2/.../versions/{v}/`) names the version;
- sticky: weighted rendezvous hashing. Each (key, version) pair gets a score
  `weight / -ln(u)` with `u` a hash in (0, 1); the highest score wins. A key lands
  on a version with probability weight / total, and changing one version's
  weight only moves keys to or from that version (minimal movement).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping
from typing import Literal, NamedTuple

from .errors import NotFound
from .routes import ModelRoute, stable_version, version_order

__all__ = [
    "Ask",
    "Choice",
    "Variant",
    "choose",
    "pick_sticky",
    "pick_weighted",
    "pool",
    "role_of",
    "stable_version",
]

Variant = Literal["stable", "canary", "pinned", "shadow"]
_HASH_SPACE = float(2**64)


class Ask(NamedTuple):
    """What a request says about routing.

    `spread`: True for inference (weighted / sticky split); False for everything
    else (metadata, job status, training), which goes to the stable version.
    """

    pinned: str | None = None
    sticky_key: str | None = None
    spread: bool = True


class Choice(NamedTuple):
    version: str
    variant: Variant


def role_of(route: ModelRoute, version: str) -> Variant:
    """`stable` for the model's stable version, `canary` for every other one."""
    return "stable" if version == route.stable else "canary"


def pick_weighted(weights: Mapping[str, float], draw: float) -> str:
    """Walk cumulative weights (in version order, so a draw is reproducible)."""
    ordered = sorted(weights, key=version_order)
    point = draw * sum(weights.values())
    for version in ordered:
        point -= weights[version]
        if point < 0:
            return version
    return ordered[-1]  # draw == 1.0 or float rounding at the top end


def _unit_hash(key: str, version: str) -> float:
    digest = hashlib.blake2b(f"{key}\x1f{version}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / _HASH_SPACE  # strictly inside (0, 1)


def pick_sticky(weights: Mapping[str, float], key: str) -> str:
    """Weighted rendezvous hashing: same key and weights, same version."""
    return max(
        sorted(weights, key=version_order),
        key=lambda v: weights[v] / -math.log(_unit_hash(key, v)),
    )


def pool(
    weights: Mapping[str, float],
    *,
    held: Collection[str] = (),
    ejected: Collection[str] = (),
    tried: Collection[str] = (),
) -> Mapping[str, float]:
    """Versions a routed request may go to now; empty when no version is left.

    `held` (cut off by the canary guard) and `ejected` (failing: cooling down, or
    not yet readmitted by its probe) versions are never used; already tried ones only when no other is left, so a
    model with one version retries on it (another worker may answer).
    """
    if not (held or ejected or tried):  # the common case: the route's own weights
        return weights
    open_weights = {v: w for v, w in weights.items() if v not in held and v not in ejected}
    return {v: w for v, w in open_weights.items() if v not in tried} or open_weights


def choose(route: ModelRoute, ask: Ask, candidates: Mapping[str, float], draw: float) -> Choice:
    """Pick one version; raise NotFound naming the known versions for a bad pin."""
    if ask.pinned is not None:
        if ask.pinned not in route.versions:
            known = route.known_versions
            message = f"unknown version {ask.pinned!r}; known versions: {', '.join(known)}"
            raise NotFound(message, versions=known)
        return Choice(ask.pinned, "pinned")
    if not ask.spread:
        version = stable_version(candidates)
    elif ask.sticky_key:
        version = pick_sticky(candidates, ask.sticky_key)
    else:
        version = pick_weighted(candidates, draw)
    return Choice(version, role_of(route, version))

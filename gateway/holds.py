"""The guard's holds on disk, so a restarted gateway keeps an aborted canary out.

The guard holds an aborted canary until the routes table changes. A restarted
gateway reads the same routes file again, and without a record its fresh guard
would let the canary straight back in. With `MODELFLEET_GUARD_STATE_FILE` set,
the gateway writes the held versions there, with the sha256 of the table they
belong to, whenever it installs a table or the guard aborts a canary; at start
it restores them only for that same table. A routes change still re-admits.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from .guard import GuardStatus

__all__ = ["read_holds", "write_holds"]

logger = logging.getLogger("gateway.holds")


def read_holds(path: Path, sha256: str) -> dict[tuple[str, str], GuardStatus]:
    """The holds recorded for the routes table `sha256`; none for another table or no file."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state["routes_sha256"] != sha256:
            return {}
        return {
            (held["model"], held["version"]):
                GuardStatus("aborted", int(held["requests"]), int(held["errors"]))
            for held in state["held"]
        }  # fmt: skip
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("guard state file unusable, starting without holds",
                       extra={"file": str(path), "reason": repr(exc)})  # fmt: skip
        return {}


def write_holds(path: Path, sha256: str, holds: Mapping[tuple[str, str], GuardStatus]) -> None:
    """Record `holds` for the table `sha256`, atomically; a failure is logged, not raised."""
    held = [
        {"model": m, "version": v, "requests": s.requests, "errors": s.errors}
        for (m, v), s in sorted(holds.items())
    ]
    scratch = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps({"routes_sha256": sha256, "held": held}), encoding="utf-8")
        os.replace(scratch, path)
    except OSError as exc:
        logger.warning("cannot write the guard state file: holds last until a restart",
                       extra={"file": str(path), "reason": exc.strerror})  # fmt: skip

"""Watch a mounted file and call back when it may have changed.

The DIRECTORY is watched, not the file: a Kubernetes ConfigMap or Secret volume
updates by writing a new timestamped directory and renaming the `..data`
symlink over the old one, so the file's own inode never changes and a watch on
it would miss every update. Editors and `make run` replace files by rename too.
Callbacks re-read the file and ignore unchanged content, so spurious events cost
one read. A timeout tick re-checks the file as well, in case an event is lost
(network filesystems, overlay quirks).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import awatch

__all__ = ["watch_file"]

logger = logging.getLogger("gateway.reload")
DEBOUNCE_MS = 100
RECHECK_MS = 5_000


async def watch_file(path: Path, on_change: Callable[[], object], stop: asyncio.Event) -> None:
    """Run `on_change` after each change around `path` until `stop` is set."""
    events = awatch(
        path.parent,
        stop_event=stop,
        watch_filter=None,
        recursive=False,
        debounce=DEBOUNCE_MS,
        step=20,
        rust_timeout=RECHECK_MS,
        yield_on_timeout=True,
    )
    async for _ in events:
        try:
            on_change()
        except Exception:  # a bad callback must not end the watch for the process lifetime
            logger.exception("reloading a watched file failed", extra={"file": str(path)})

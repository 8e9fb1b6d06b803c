"""Readiness of the whole gunicorn server, not of the one worker a probe reaches.

All workers accept on one socket, so a probe lands on whichever worker takes
it. A worker that has loaded its model must not call the server ready while a
sibling is still loading (or reloading after a crash): the sibling would then
be sent traffic and answer 503. So, in a directory the gunicorn master made
fresh, the master keeps the number of workers it runs and removes a dead
worker's marker, each ready worker keeps a marker named by its pid, and the
server is ready when every worker has one. Outside gunicorn (no directory) a
process is its own only worker.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_ENV = "MODELFLEET_GUNICORN_READY_DIR"
_COUNT = "workers"
_MARKER = ".ready"


class WorkerReadiness:
    def __init__(self, directory: Path | None, pid: int | None = None) -> None:
        self.directory = directory
        self.pid = pid or os.getpid()

    @classmethod
    def from_environment(cls) -> WorkerReadiness:
        directory = os.environ.get(DIRECTORY_ENV)
        return cls(Path(directory) if directory else None)

    def mark(self, ready: bool) -> None:
        if self.directory is None:
            return
        marker = self.directory / f"{self.pid}{_MARKER}"
        if ready:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def loading(self) -> tuple[int, int]:
        """(workers without a ready marker, workers the server runs)."""
        if self.directory is None:
            return 0, 1
        count = int((self.directory / _COUNT).read_text())
        ready = sum(1 for _ in self.directory.glob(f"*{_MARKER}"))
        return max(0, count - ready), count


def set_count(directory: Path, count: int) -> None:
    """The master's number of workers, replaced atomically (TTIN/TTOU change it)."""
    staged = directory / f".{_COUNT}"
    staged.write_text(str(count))
    staged.replace(directory / _COUNT)


def forget(directory: Path, pid: int) -> None:
    """Called by the master when a worker exits, however it died."""
    (directory / f"{pid}{_MARKER}").unlink(missing_ok=True)

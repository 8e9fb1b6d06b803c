"""Process CPU time from /proc: what a measured window cost the server, on any load.

CPU seconds per request resist a shared machine's noise better than wall-clock
figures: a neighbour's build slows a server down, but barely changes the work
each request costs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["children", "cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    # The fields after the command name, which may hold spaces and parentheses.
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU seconds the processes have spent so far, summed."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def children(parent: int, argv_contains: str = "") -> list[int]:
    """Live processes whose parent is `parent` (and whose command line contains
    `argv_contains`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) != parent:
                continue
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended while we looked
        if argv_contains in argv:
            found.append(int(entry.name))
    return found

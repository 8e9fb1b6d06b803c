"""A ConfigMap or Secret volume on disk, laid out and updated the way the kubelet does it.

The files sit in a timestamped folder, `..data` links to it, and each key is a
link through `..data`; an update writes a new folder and renames a fresh link
over `..data`, so a reader sees either every old file or every new one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["write_volume"]


def write_volume(folder: Path, files: dict[str, str | bytes]) -> None:
    """Create `folder` with `files`, or swap its content for `files` if it exists."""
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    data = folder / f"..{datetime.now(UTC):%Y_%m_%d_%H_%M_%S.%f}"
    data.mkdir(mode=0o755)
    for key, content in files.items():
        path = data / key
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        path.chmod(0o644)
    previous = (folder / "..data").resolve() if (folder / "..data").is_symlink() else None
    (folder / "..data_tmp").symlink_to(data.name)
    os.replace(folder / "..data_tmp", folder / "..data")
    for key in files:
        if not (folder / key).is_symlink():
            (folder / key).symlink_to(f"..data/{key}")
    if previous is not None:
        for old in previous.iterdir():
            old.unlink()
        previous.rmdir()

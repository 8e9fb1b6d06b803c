"""Regenerate the dashboard JSON files: `python -m services.cli.dashboards [DIR]`."""

from __future__ import annotations

import sys
from pathlib import Path

from . import DEFAULT_DIR, write_all


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else DEFAULT_DIR
    for path in write_all(directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

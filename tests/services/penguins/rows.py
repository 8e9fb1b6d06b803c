"""The held-out penguins as API callers send them: every field recorded, plain types."""

from __future__ import annotations

from typing import Any

from services.penguins.schemas import MEASUREMENTS
from services.penguins.train import split

__all__ = ["ROWS", "SPECIES"]


def _held_out() -> tuple[list[dict[str, Any]], list[str]]:
    _, x_test, _, y_test = split()
    complete = x_test.notna().all(axis=1)  # the API needs every field
    rows = [
        {k: (float(v) if k in MEASUREMENTS else v) for k, v in row.items()}
        for row in x_test[complete].to_dict(orient="records")
    ]
    return rows, list(y_test[complete])


ROWS, SPECIES = _held_out()

"""The shipped values file narrowed to iris, for the stacks the e2e tests start: the
torch models would only slow the start, and their services have their own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.charts.helm import ROOT


def iris_values(folder: Path, **changes: Any) -> Path:
    """Write `folder/values.yaml`: the shipped iris entry with `changes` on top."""
    shipped = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())
    shipped["models"] = {"iris": shipped["models"]["iris"] | changes}
    values = folder / "values.yaml"
    values.write_text(yaml.safe_dump(shipped, sort_keys=False))
    return values

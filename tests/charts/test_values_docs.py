"""Every value of every chart is documented with `## @param path description`.

A value counts as documented when its own path or an ancestor's carries a
`## @param` line (a map documented as a whole, e.g. `nodeSelector`), and every
`@param` names a value that exists, so the docs never describe a removed key.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.charts.helm import CHARTS, ROOT

PARAM = re.compile(r"^\s*## @param (\S+) (\S.*)$")
APPLICATION_CHARTS = [c for c in CHARTS if c != "fleetlib"]


def leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [p for key, value in node.items() for p in leaves(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def documented(chart: str) -> dict[str, str]:
    text = (ROOT / "charts" / chart / "values.yaml").read_text()
    return {m.group(1): m.group(2) for m in map(PARAM.match, text.splitlines()) if m}


def values(chart: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "charts" / chart / "values.yaml").read_text())


def ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


@pytest.mark.parametrize("chart", APPLICATION_CHARTS)
def test_every_value_has_a_param_line(chart: str) -> None:
    docs = documented(chart)
    undocumented = [p for p in leaves(values(chart)) if not any(a in docs for a in ancestors(p))]
    assert undocumented == []


@pytest.mark.parametrize("chart", APPLICATION_CHARTS)
def test_every_param_line_names_an_existing_value(chart: str) -> None:
    paths = {a for leaf in leaves(values(chart)) for a in ancestors(leaf)}
    assert sorted(set(documented(chart)) - paths) == []


@pytest.mark.parametrize("chart", APPLICATION_CHARTS)
def test_values_files_point_editors_at_their_schema(chart: str) -> None:
    first = (ROOT / "charts" / chart / "values.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./values.schema.json"

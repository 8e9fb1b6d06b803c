"""Grafana panels and dashboards built with grafana-foundation-sdk.

The helpers fix what every modelfleet panel shares: the `${datasource}`
variable (never a hard-coded uid), the namespace / model / version variables,
and panel ids numbered in layout order so they are unique per dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

__all__ = [
    "Panel",
    "Query",
    "VariableSource",
    "dashboard",
    "distribution",
    "status",
    "summary_table",
    "timeline",
]

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
HEIGHT = 8
ALL = model.VariableOption(selected=True, text="All", value="$__all")

Panel = timeseries.Panel | stat.Panel | table.Panel | heatmap.Panel


@dataclass(frozen=True)
class Query:
    """One PromQL target; `legend` is Grafana's legendFormat."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class VariableSource:
    """The series whose labels fill the model and version pickers."""

    metric: str
    single_model: bool = False


def targets(panel: Any, queries: Iterable[Query], *, fmt: PromQueryFormat | None = None) -> Any:
    for ref, query in zip("ABCDEFGHIJ", queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).ref_id(ref).legend_format(query.legend)
        if fmt is not None:
            target = target.format(fmt)
        if fmt is PromQueryFormat.TABLE:
            target = target.instant()
        panel = panel.with_target(target)
    return panel


def frame(panel: Any, title: str, description: str, width: int) -> Any:
    return (
        panel.title(title).description(description).datasource(DATASOURCE)
        .height(HEIGHT).span(width)
    )  # fmt: skip


def timeline(title: str, description: str, unit: str, *queries: Query, width: int = 12) -> Panel:
    """A time series panel: one line per series of every query."""
    panel = frame(timeseries.Panel(), title, description, width).unit(unit)
    return targets(panel.fill_opacity(10), queries)


def status(
    title: str,
    description: str,
    unit: str,
    query: Query,
    states: dict[int, tuple[str, str]] | None = None,
    *,
    width: int = 12,
) -> Panel:
    """A stat panel; `states[value] = (text, colour)` names and colours values."""
    panel = frame(stat.Panel(), title, description, width).unit(unit)
    if states:
        mapping = model.ValueMap(
            {str(v): model.ValueMappingResult(text=t, color=c) for v, (t, c) in states.items()}
        )
        # The first step has no value: it colours everything below the second one.
        steps = [model.Threshold(value=None if i == 0 else v, color=c)
                 for i, (v, (_, c)) in enumerate(sorted(states.items()))]  # fmt: skip
        thresholds = db.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps)
        panel = panel.mappings([mapping]).thresholds(thresholds)
    return targets(panel, [query])


def summary_table(
    title: str, description: str, columns: dict[str, Query], *, width: int = 24
) -> Panel:
    """Instant queries merged into one row per series; `columns` names each value."""
    names = {f"Value #{ref}": name for ref, name in zip("ABCDEFGHIJ", columns, strict=False)}
    organize = {"renameByName": names, "excludeByName": {"Time": True}}
    panel = frame(table.Panel(), title, description, width)
    panel = panel.with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
    panel = panel.with_transformation(
        model.DataTransformerConfig(id_val="organize", options=organize)
    )
    return targets(panel, columns.values(), fmt=PromQueryFormat.TABLE)


def distribution(title: str, description: str, query: Query, *, width: int = 12) -> Panel:
    """A heatmap of histogram buckets (the query returns per-`le` increases)."""
    panel = frame(heatmap.Panel(), title, description, width).calculate(False)
    return targets(panel, [query], fmt=PromQueryFormat.HEATMAP)


def variables(source: VariableSource) -> list[Any]:
    scope = 'namespace=~"$namespace", fleet=~"$fleet"'
    model_var = picker("model", f"{source.metric}{{{scope}}}", multi=not source.single_model)
    version_var = picker("version", f'{source.metric}{{{scope}, model=~"$model"}}')
    return [
        db.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        picker("namespace", source.metric),
        # Two fleets may share a namespace (charts' namePrefix); the label tells them apart.
        picker("fleet", f'{source.metric}{{namespace=~"$namespace"}}'),
        model_var,
        version_var,
    ]


def picker(label: str, series: str, *, multi: bool = True) -> Any:
    """A label_values variable; "All" is `.*`, so it also matches an absent label."""
    variable = (
        db.QueryVariable(label).label(label.capitalize()).datasource(DATASOURCE)
        .query(f"label_values({series}, {label})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )  # fmt: skip
    if not multi:
        return variable
    return variable.multi(True).include_all(True).all_value(".*").current(ALL)


def dashboard(
    uid: str, title: str, description: str, source: VariableSource, panels: list[Panel]
) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (a plain dict, ready to dump)."""
    board = (
        db.Dashboard(title).uid(uid).description(description).tags(["modelfleet"])
        .time("now-1h", "now").refresh("30s").timezone("browser").editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
    )  # fmt: skip
    for variable in variables(source):
        board = board.with_variable(variable)
    for panel_id, panel in enumerate(panels, start=1):
        board = board.with_panel(panel.id(panel_id))
    encoded: dict[str, Any] = json.loads(JSONEncoder().encode(board.build()))
    return encoded

"""bench/RESULTS.md: the measurements, the ratios the targets are about, the machine."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from .wrk import Measurement

__all__ = ["Cell", "Results", "load_average", "machine_facts", "render"]

Cell = tuple[str, int, str, str]
"""(model, concurrency, route, batching)."""


@dataclass
class Results:
    runs: dict[Cell, list[Measurement]]
    """Every measurement of each cell, one per round."""

    def rps(self, cell: Cell) -> float:
        return statistics.median(m.rps for m in self.runs[cell])

    def p50(self, cell: Cell) -> float:
        return statistics.median(m.p50_ms for m in self.runs[cell])

    def p99(self, cell: Cell) -> float:
        return statistics.median(m.p99_ms for m in self.runs[cell])

    def errors(self, cell: Cell) -> int:
        return sum(m.errors for m in self.runs[cell])

    def has(self, *cells: Cell) -> bool:
        return all(cell in self.runs for cell in cells)


@dataclass(frozen=True)
class Target:
    label: str
    goal: str
    measure: Callable[[Results], tuple[str, bool]]
    cells: tuple[Cell, ...]


def _batching_speedup(r: Results) -> tuple[str, bool]:
    on, off = ("minilm", 32, "direct", "on"), ("minilm", 32, "direct", "off")
    ratio = r.rps(on) / r.rps(off)
    text = f"{ratio:.2f}x req/s; p99 {r.p99(on):.0f} ms on vs {r.p99(off):.0f} ms off"
    return text, ratio >= 3.5 and r.p99(on) <= r.p99(off)


def _no_timer_penalty(r: Results) -> tuple[str, bool]:
    on, off = ("minilm", 1, "direct", "on"), ("minilm", 1, "direct", "off")
    change = r.p50(on) / r.p50(off) - 1
    return f"p50 {r.p50(on):.2f} ms on vs {r.p50(off):.2f} ms off ({change:+.1%})", change <= 0.10


def _gateway_throughput(r: Results) -> tuple[str, bool]:
    via, direct = ("minilm", 32, "gateway", "on"), ("minilm", 32, "direct", "on")
    share = r.rps(via) / r.rps(direct)
    return f"{share:.0%} ({r.rps(via):.1f} vs {r.rps(direct):.1f} req/s)", share >= 0.80


def _gateway_latency(r: Results) -> tuple[str, bool]:
    via, direct = ("iris", 1, "gateway", "on"), ("iris", 1, "direct", "on")
    added = r.p50(via) - r.p50(direct)
    return f"+{added:.2f} ms ({r.p50(via):.2f} vs {r.p50(direct):.2f} ms)", added <= 1.5


TARGETS = (
    Target("minilm c=32, batching on vs off (direct)", ">= 3.5x req/s, p99 no worse",
           _batching_speedup, (("minilm", 32, "direct", "on"), ("minilm", 32, "direct", "off"))),
    Target("minilm c=1, batching on vs off (direct)", "p50 within +10 %",
           _no_timer_penalty, (("minilm", 1, "direct", "on"), ("minilm", 1, "direct", "off"))),
    Target("minilm c=32, gateway vs direct (batching on)", ">= 80 % of direct req/s",
           _gateway_throughput, (("minilm", 32, "gateway", "on"), ("minilm", 32, "direct", "on"))),
    Target("iris c=1, gateway vs direct (batching on)", "added p50 <= 1.5 ms",
           _gateway_latency, (("iris", 1, "gateway", "on"), ("iris", 1, "direct", "on"))),
)  # fmt: skip


def _results_table(r: Results) -> list[str]:
    rows = [
        "| model | concurrency | route | batching | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for cell in r.runs:
        model, concurrency, route, batching = cell
        rows.append(
            f"| {model} | {concurrency} | {route} | {batching} | {r.rps(cell):.1f} | "
            f"{r.p50(cell):.2f} | {r.p99(cell):.2f} | {r.errors(cell)} |"
        )
    return rows


def _targets_table(r: Results) -> list[str]:
    rows = ["| comparison | target | measured | met |", "|---|---|---|---|"]
    for target in TARGETS:
        if r.has(*target.cells):
            text, met = target.measure(r)
            rows.append(f"| {target.label} | {target.goal} | {text} | {'yes' if met else 'NO'} |")
    return rows


def _ratios_table(r: Results, models: Sequence[str]) -> list[str]:
    rows = [
        "| model | c=32 req/s on/off | c=32 p99 on/off | c=1 p50 on/off "
        "| c=32 req/s gateway/direct | c=1 p50 added by gateway |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in models:
        on32, off32 = (m, 32, "direct", "on"), (m, 32, "direct", "off")
        on1, off1 = (m, 1, "direct", "on"), (m, 1, "direct", "off")
        via32, via1 = (m, 32, "gateway", "on"), (m, 1, "gateway", "on")
        if not r.has(on32, off32, on1, off1, via32, via1):
            continue
        rows.append(
            f"| {m} | {r.rps(on32) / r.rps(off32):.2f}x | {r.p99(on32) / r.p99(off32):.2f} "
            f"| {r.p50(on1) / r.p50(off1):.2f} | {r.rps(via32) / r.rps(on32):.0%} "
            f"| {r.p50(via1) - r.p50(on1):+.2f} ms |"
        )
    return rows


def machine_facts(wrk: str) -> dict[str, str]:
    models = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    cpu = models[0] if models else platform.processor() or "unknown"
    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu,
        "cores": f"{os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "torch / transformers": f"{version('torch')} / {version('transformers')}",
        "fastapi / uvicorn / gunicorn": f"{version('fastapi')} / {version('uvicorn')} / {version('gunicorn')}",
        "load generator": wrk,
    }  # fmt: skip


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def render(
    results: Results,
    facts: Mapping[str, str],
    settings: Mapping[str, str],
    payloads: Mapping[str, str],
    models: Sequence[str],
) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Each cell is the",
        "median over the rounds; the cells of one comparison were measured back to back in",
        "the same run, so their ratios hold even when the machine is shared and noisy.",
        "",
        "## Targets",
        "",
        *_targets_table(results),
        "",
        "## Ratios per model",
        "",
        *_ratios_table(results, models),
        "",
        "## Measurements",
        "",
        *_results_table(results),
        "",
        "## Setup",
        "",
        *(f"- {key}: {value}" for key, value in settings.items()),
        *(f"- {model} requests: {text}" for model, text in payloads.items()),
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
    ]
    return "\n".join(lines)

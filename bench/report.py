"""bench/RESULTS.md: the measurements, the ratios the targets are about, the machine."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from .wrk import Measurement

__all__ = [
    "Cell", "Results", "ServerCell", "cpu_times", "load_average", "machine_facts", "render",
    "steal_share",
]  # fmt: skip

Cell = tuple[str, int, str, str]
"""A fleet cell: (model, concurrency, route, batching)."""
ServerCell = tuple[str, int, int, str]
"""A server cell: (model, concurrency, workers, app) with app `runtime` or `reference`."""
Layout = tuple[str, int]
"""(model, workers): what a ceiling is measured for."""


@dataclass
class Results:
    runs: dict[Cell, list[Measurement]]
    """Every measurement of each fleet cell, one per round."""
    servers: dict[ServerCell, list[Measurement]] = field(default_factory=dict)
    """Every measurement of each server cell (`bench.overhead`), one per round."""
    ceilings: dict[Layout, list[float]] = field(default_factory=dict)
    """Every in-process ceiling (instances/s) of each layout, one per round."""

    def _of(self, cell: Cell | ServerCell) -> list[Measurement]:
        return self.runs[cell] if cell in self.runs else self.servers[cell]  # type: ignore[index]

    def rps(self, cell: Cell | ServerCell) -> float:
        return statistics.median(m.rps for m in self._of(cell))

    def p50(self, cell: Cell | ServerCell) -> float:
        return statistics.median(m.p50_ms for m in self._of(cell))

    def p99(self, cell: Cell | ServerCell) -> float:
        return statistics.median(m.p99_ms for m in self._of(cell))

    def errors(self, cell: Cell | ServerCell) -> int:
        return sum(m.errors for m in self._of(cell))

    def cpu_ms(self, cell: Cell | ServerCell) -> float | None:
        """Median CPU milliseconds per request of the measured processes, if measured."""
        figures = [m.cpu_ms_per_request for m in self._of(cell)]
        return None if None in figures else statistics.median(figures)  # type: ignore[type-var]

    def steadiness(self, cell: Cell | ServerCell) -> float:
        """The lowest round's requests/s over the highest's."""
        rates = [m.rps for m in self._of(cell)]
        return min(rates) / max(rates)

    def ceiling(self, layout: Layout) -> float:
        return statistics.median(self.ceilings[layout])

    def has(self, *cells: Cell | ServerCell) -> bool:
        return all(cell in self.runs or cell in self.servers for cell in cells)


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
    return f"{share:.0%} ({r.rps(via):.1f} vs {r.rps(direct):.1f} req/s)", share >= 0.90


def _gateway_latency(r: Results) -> tuple[str, bool]:
    via, direct = ("iris", 1, "gateway", "on"), ("iris", 1, "direct", "on")
    added = r.p50(via) - r.p50(direct)
    return f"+{added:.2f} ms ({r.p50(via):.2f} vs {r.p50(direct):.2f} ms)", added <= 0.5


def _gateway_cpu(r: Results) -> tuple[str, bool]:
    spent = r.cpu_ms(("iris", 32, "gateway", "on"))
    if spent is None:
        return "not measured", False
    return f"{spent:.3f} ms of CPU per request", spent <= 0.35


def _against_reference(
    model: str, concurrency: int, workers: int
) -> Callable[[Results], tuple[str, bool]]:
    def measure(r: Results) -> tuple[str, bool]:
        ours, theirs = (
            (model, concurrency, workers, "runtime"),
            (model, concurrency, workers, "reference"),
        )
        ratio = r.rps(ours) / r.rps(theirs)
        return f"{ratio:.2f}x ({r.rps(ours):.1f} vs {r.rps(theirs):.1f} req/s)", ratio >= 0.8

    return measure


def _added_p50(r: Results) -> tuple[str, bool]:
    ours, theirs = ("minilm", 1, 1, "runtime"), ("minilm", 1, 1, "reference")
    added = r.p50(ours) - r.p50(theirs)
    return f"{added:+.2f} ms ({r.p50(ours):.2f} vs {r.p50(theirs):.2f} ms)", added <= 0.25


def _near_ceiling(workers: int) -> Callable[[Results], tuple[str, bool]]:
    def measure(r: Results) -> tuple[str, bool]:
        if ("minilm", workers) not in r.ceilings:
            return "not measured", False
        ours, ceiling = r.rps(("minilm", 32, workers, "runtime")), r.ceiling(("minilm", workers))
        share = ours / ceiling
        return f"{share:.2f}x ({ours:.1f} req/s vs {ceiling:.1f} instances/s)", share >= 0.75

    return measure


def _steady(r: Results) -> tuple[str, bool]:
    cells = [cell for cell in r.servers if cell[1:] == (32, 2, "runtime")]
    worst = min(cells, key=r.steadiness)
    # The reference app's rounds, measured beside, say how much of it is the machine.
    text = ", ".join(f"{c[0]} {c[3]} {r.steadiness(c):.2f}{_reference_steadiness(r, c)}"
                     for c in cells)  # fmt: skip
    return text, r.steadiness(worst) >= 0.85


def _reference_steadiness(r: Results, cell: ServerCell) -> str:
    reference = (*cell[:3], "reference")
    return f" (reference {r.steadiness(reference):.2f})" if r.has(reference) else ""


TARGETS = (
    Target("minilm c=32, batching on vs off (direct)", ">= 3.5x req/s, p99 no worse",
           _batching_speedup, (("minilm", 32, "direct", "on"), ("minilm", 32, "direct", "off"))),
    Target("minilm c=1, batching on vs off (direct)", "p50 within +10 %",
           _no_timer_penalty, (("minilm", 1, "direct", "on"), ("minilm", 1, "direct", "off"))),
    Target("minilm c=32, gateway vs direct (batching on)", ">= 90 % of direct req/s",
           _gateway_throughput, (("minilm", 32, "gateway", "on"), ("minilm", 32, "direct", "on"))),
    Target("iris c=1, gateway vs direct (batching on)", "added p50 <= 0.5 ms",
           _gateway_latency, (("iris", 1, "gateway", "on"), ("iris", 1, "direct", "on"))),
    Target("iris c=32, gateway's own CPU (batching on)", "<= 0.35 ms per request",
           _gateway_cpu, (("iris", 32, "gateway", "on"),)),
    Target("iris c=1, 1 worker, runtime vs reference app", ">= 0.8x req/s",
           _against_reference("iris", 1, 1), (("iris", 1, 1, "runtime"), ("iris", 1, 1, "reference"))),
    Target("iris c=32, 2 workers, runtime vs reference app", ">= 0.8x req/s",
           _against_reference("iris", 32, 2),
           (("iris", 32, 2, "runtime"), ("iris", 32, 2, "reference"))),
    Target("minilm c=1, 1 worker, runtime vs reference app", "added p50 <= 0.25 ms",
           _added_p50, (("minilm", 1, 1, "runtime"), ("minilm", 1, 1, "reference"))),
    Target("minilm c=32, 1 worker, runtime vs in-process ceiling", ">= 0.75x",
           _near_ceiling(1), (("minilm", 32, 1, "runtime"),)),
    Target("minilm c=32, 2 workers, runtime vs in-process ceiling", ">= 0.75x",
           _near_ceiling(2), (("minilm", 32, 2, "runtime"),)),
    Target("c=32, 2 workers, lowest round / highest", ">= 0.85 for every server",
           _steady, (("iris", 32, 2, "runtime"), ("minilm", 32, 2, "runtime"))),
)  # fmt: skip


def _servers_table(r: Results) -> list[str]:
    rows = [
        "| model | workers | concurrency | runtime req/s | reference req/s | runtime/reference "
        "| p50 ms runtime / reference | CPU ms per request runtime / reference "
        "| ceiling instances/s | runtime/ceiling | lowest/highest round runtime / reference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    pairs = sorted({cell[:3] for cell in r.servers}, key=lambda c: (c[0], c[2], c[1]))
    for model, concurrency, workers in pairs:
        ours, theirs = (
            (model, concurrency, workers, "runtime"),
            (model, concurrency, workers, "reference"),
        )
        if not r.has(ours, theirs):
            continue
        layout = (model, workers)
        ceiling = r.ceiling(layout) if layout in r.ceilings else None
        rows.append(
            f"| {model} | {workers} | {concurrency} | {r.rps(ours):.1f} | {r.rps(theirs):.1f} "
            f"| {r.rps(ours) / r.rps(theirs):.2f} | {r.p50(ours):.2f} / {r.p50(theirs):.2f} "
            f"| {_cpu(r, ours)} / {_cpu(r, theirs)} "
            f"| {'' if ceiling is None else f'{ceiling:.1f}'} "
            f"| {'' if ceiling is None else f'{r.rps(ours) / ceiling:.2f}'} "
            f"| {r.steadiness(ours):.2f} / {r.steadiness(theirs):.2f} |"
        )
    return rows


def _clients_table(r: Results) -> list[str]:
    rows = [
        "| concurrency | client | req/s | p50 ms | added to direct p50 | proxy CPU ms per request |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for cell in sorted(c for c in r.servers if c[3].startswith("via ")):
        model, concurrency, workers, app = cell
        direct = (model, concurrency, workers, "runtime")
        rows.append(
            f"| {concurrency} | {app.removeprefix('via ')} | {r.rps(cell):.1f} | {r.p50(cell):.2f} "
            f"| {r.p50(cell) - r.p50(direct):+.2f} ms | {_cpu(r, cell)} |"
        )
    return rows


def _cpu(r: Results, cell: Cell | ServerCell) -> str:
    spent = r.cpu_ms(cell)
    return "" if spent is None else f"{spent:.3f}"


def _results_table(r: Results) -> list[str]:
    rows = [
        "| model | concurrency | route | batching | req/s | p50 ms | p99 ms | errors "
        "| gateway CPU ms per request |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for cell in r.runs:
        model, concurrency, route, batching = cell
        rows.append(
            f"| {model} | {concurrency} | {route} | {batching} | {r.rps(cell):.1f} | "
            f"{r.p50(cell):.2f} | {r.p99(cell):.2f} | {r.errors(cell)} | {_cpu(r, cell)} |"
        )
    for cell in r.servers:
        model, concurrency, workers, app = cell
        rows.append(
            f"| {model} | {concurrency} | {app}, {workers} worker(s) | on | {r.rps(cell):.1f} | "
            f"{r.p50(cell):.2f} | {r.p99(cell):.2f} | {r.errors(cell)} | |"
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


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat, all CPUs): user .. steal, in ticks."""
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def steal_share(before: Sequence[int], after: Sequence[int]) -> float:
    """The share of CPU time the hypervisor gave to other guests between two readings."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / sum(spent) if sum(spent) else 0.0


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
        "## The runtime against the reference app and the in-process ceiling",
        "",
        "Same model objects, same gunicorn config, workers and threads, same request bodies;",
        "CPU is the server's workers' user + system time over the requests answered.",
        "",
        *_servers_table(results),
        "",
        "## The gateway's client: its own against aiohttp and httpx over aiohttp (`httpx-aiohttp`)",
        "",
        "One minimal proxy per client (bench/clients.py) in front of the two-worker iris",
        "model service, measured in the same rounds; direct is that service without a proxy.",
        "",
        *_clients_table(results),
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

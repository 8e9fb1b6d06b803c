"""RESULTS.md: targets, ratios and the table computed from measurements."""

from __future__ import annotations

from bench.report import Results, render
from bench.wrk import Measurement


def measured(rps: float, p50: float, p99: float, errors: int = 0) -> Measurement:
    return Measurement(requests=int(rps * 10), seconds=10.0, p50_ms=p50, p99_ms=p99, errors=errors)


def results(on32: float, off32: float, gateway32: float, p50_on: float, p50_off: float) -> Results:
    runs = {}
    for model in ("iris", "minilm"):
        runs |= {
            (model, 1, "direct", "on"): [measured(100, p50_on, 10)],
            (model, 1, "direct", "off"): [measured(100, p50_off, 10)],
            (model, 1, "gateway", "on"): [measured(90, p50_on + 1.2, 12)],
            (model, 1, "gateway", "off"): [measured(90, p50_off + 1.2, 12)],
            (model, 32, "direct", "on"): [measured(on32, 100, 200)],
            (model, 32, "direct", "off"): [measured(off32, 300, 900)],
            (model, 32, "gateway", "on"): [measured(gateway32, 110, 220)],
            (model, 32, "gateway", "off"): [measured(off32 * 0.9, 320, 950, errors=2)],
        }
    return Results(runs)


def page(r: Results) -> str:
    return render(
        r,
        {"CPU": "test cpu"},
        {"command": "`python -m bench`"},
        {"iris": "rows"},
        ["iris", "minilm"],
    )


def target_row(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {label}"))


def test_targets_that_hold_say_yes_with_the_measured_figures() -> None:
    text = page(results(on32=400, off32=100, gateway32=360, p50_on=10.5, p50_off=10.0))
    assert target_row(text, "minilm c=32, batching on vs off").endswith(
        "| 4.00x req/s; p99 200 ms on vs 900 ms off | yes |"
    )
    assert "(+5.0%) | yes |" in target_row(text, "minilm c=1, batching on vs off")
    assert "| 90% (360.0 vs 400.0 req/s) | yes |" in target_row(text, "minilm c=32, gateway")
    # The gateway's budget at iris c=1 is 0.5 ms: 1.2 ms misses it.
    assert "| +1.20 ms (11.70 vs 10.50 ms) | NO |" in target_row(text, "iris c=1, gateway")


def test_missed_targets_say_no() -> None:
    text = page(results(on32=300, off32=100, gateway32=200, p50_on=12.0, p50_off=10.0))
    assert target_row(text, "minilm c=32, batching on vs off").endswith("| NO |")
    assert target_row(text, "minilm c=1, batching on vs off").endswith("(+20.0%) | NO |")
    assert target_row(text, "minilm c=32, gateway").endswith("| NO |")


def test_cells_are_medians_over_rounds_and_errors_add_up() -> None:
    cell = ("iris", 32, "direct", "on")
    r = Results({cell: [measured(100, 5, 50, 1), measured(300, 9, 70, 2), measured(200, 7, 90)]})
    assert (r.rps(cell), r.p50(cell), r.p99(cell), r.errors(cell)) == (200, 7, 70, 3)
    assert "| iris | 32 | direct | on | 200.0 | 7.00 | 70.00 | 3 |" in page(r)


def test_comparisons_without_their_cells_are_left_out() -> None:
    r = Results({("iris", 1, "direct", "on"): [measured(100, 5, 9)]})
    text = page(r)
    assert "batching on vs off" not in text and "| iris | 1 | direct | on |" in text


def server_results(ours: float, theirs: float, ceiling: float, rounds: list[float]) -> Results:
    """The runtime at `ours` req/s and the reference at `theirs` in every server cell; the
    runtime's two-worker c=32 cells with one measurement per round in `rounds`."""
    r = Results(runs={})
    for model in ("iris", "minilm"):
        for workers in (1, 2):
            for concurrency in (1, 32):
                steady = concurrency == 32 and workers == 2
                runtime = (
                    [measured(x, 2.0, 9) for x in rounds] if steady else [measured(ours, 2.0, 9)]
                )
                r.servers[model, concurrency, workers, "runtime"] = runtime
                r.servers[model, concurrency, workers, "reference"] = [measured(theirs, 1.9, 8)]
            r.ceilings[model, workers] = [ceiling * workers]
    r.servers["iris", 32, 2, "via aiohttp"] = [
        Measurement(requests=1000, seconds=10.0, p50_ms=2.5, p99_ms=9, errors=0, cpu_seconds=0.25)
    ]
    return r


def test_the_runtime_is_compared_with_the_reference_app_and_the_ceiling() -> None:
    text = page(server_results(ours=90, theirs=100, ceiling=100, rounds=[90, 95, 100]))
    assert target_row(text, "iris c=1, 1 worker, runtime vs reference").endswith(
        "| 0.90x (90.0 vs 100.0 req/s) | yes |"
    )
    assert "| +0.10 ms (2.00 vs 1.90 ms) | yes |" in target_row(text, "minilm c=1, 1 worker")
    # Two workers: the ceiling doubles, and the runtime's median round is 95 req/s.
    assert "| 0.47x (95.0 req/s vs 200.0 instances/s) | NO |" in target_row(
        text, "minilm c=32, 2 workers, runtime vs in-process ceiling"
    )
    assert target_row(text, "c=32, 2 workers, lowest round").endswith(
        "| iris runtime 0.90 (reference 1.00), minilm runtime 0.90 (reference 1.00) | yes |"
    )
    assert "| iris | 2 | 32 | 95.0 | 100.0 | 0.95 | 2.00 / 1.90 |" in text
    assert target_row(text, "iris | 2 | 32").endswith("| 0.90 / 1.00 |")
    # The client A/B: the proxy's CPU over its requests, and what it adds to direct.
    assert "| 32 | aiohttp | 100.0 | 2.50 | +0.50 ms | 0.250 |" in text


def test_a_round_far_below_the_others_misses_the_steadiness_target() -> None:
    text = page(server_results(ours=90, theirs=100, ceiling=100, rounds=[50, 95, 100]))
    assert target_row(text, "c=32, 2 workers, lowest round").endswith("| NO |")

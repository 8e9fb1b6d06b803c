"""`python -m bench`: drive every model with wrk, direct and through the gateway,
batching on and off, at concurrency 1 and 32, and write bench/RESULTS.md.

    python -m bench [--models iris,digits,minilm] [--seconds 4] [--rounds 6]

Needs the registry (`make models`) and Debian `wrk` (`make .tools/apt.stamp`);
`make bench` provides both. Not part of `make test`: these are measurements,
never assertions.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from .payloads import PAYLOADS, Payload
from .report import Cell, Results, load_average, machine_facts, render
from .stack import BATCHING, ROUTES, Stack, running_stacks
from .wrk import Measurement, run_wrk, wrk_version

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "out"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="iris,digits,minilm", help="comma-separated models")
    parser.add_argument("--concurrency", default="1,32", help="comma-separated connection counts")
    parser.add_argument("--seconds", type=int, default=4, help="measured seconds per cell")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each")
    parser.add_argument("--rounds", type=int, default=6, help="times every cell is measured")
    parser.add_argument("--torch-threads", type=int, default=1, help="MODELFLEET_TORCH_THREADS")
    parser.add_argument("--registry", type=Path, default=ROOT / "registry")
    parser.add_argument(
        "--values", type=Path, default=ROOT / "charts" / "modelfleet" / "values.yaml",
        help="fleet values whose modelDefaults the benchmarked services use",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    if min(args.seconds, args.warmup, args.rounds) < 1:
        parser.error(
            "--seconds, --warmup and --rounds must be at least 1 (wrk counts whole seconds)"
        )
    unknown = sorted(set(args.models) - set(PAYLOADS))
    if unknown:
        parser.error(f"no payloads for {unknown}; known: {sorted(PAYLOADS)}")
    return args


def _measure_cell(
    stack: Stack, cell: Cell, payload: Payload, bodies: list[Path], args: argparse.Namespace
) -> Measurement:
    model, concurrency, route, batching = cell
    url, path = stack.target(model, batching, route)
    options = {"connections": concurrency}
    run_wrk(url, path, payload.content_type, bodies, seconds=args.warmup, **options)
    measured = run_wrk(url, path, payload.content_type, bodies, seconds=args.seconds, **options)
    print(
        f"{model:>7} c={concurrency:<3} {route:>7} batching {batching:<3} "
        f"{measured.rps:8.1f} req/s  p50 {measured.p50_ms:8.2f} ms  p99 {measured.p99_ms:8.2f} ms"
        f"  errors {measured.errors}",
        file=sys.stderr, flush=True,
    )  # fmt: skip
    return measured


def _measure_all(
    stack: Stack,
    payloads: dict[str, Payload],
    bodies: dict[str, list[Path]],
    args: argparse.Namespace,
) -> Results:
    # The cells of one comparison run back to back, and rounds repeat the whole
    # sequence, so slow drift on a shared machine hits both sides of a ratio;
    # every other round runs a comparison's cells in reverse, so going first
    # (or second) favours neither side.
    results = Results(runs={})
    for round_number in range(args.rounds):
        for model in args.models:
            for concurrency in args.concurrency:
                group = [(model, concurrency, r, b) for r in ROUTES for b in BATCHING]
                for cell in group if round_number % 2 == 0 else reversed(group):
                    measured = _measure_cell(stack, cell, payloads[model], bodies[model], args)
                    results.runs.setdefault(cell, []).append(measured)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    wrk = wrk_version()
    facts = machine_facts(wrk) | {"load average at start (1, 5, 15 min)": load_average()}
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    payloads = {model: PAYLOADS[model]() for model in args.models}
    bodies = {model: payloads[model].write(WORK / "bodies" / model) for model in args.models}
    fleet = yaml.safe_load(args.values.read_text())
    registry = args.registry.resolve()
    with running_stacks(fleet, args.models, registry, args.torch_threads, WORK) as stack:
        results = _measure_all(stack, payloads, bodies, args)
    facts["load average at end (1, 5, 15 min)"] = load_average()
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    settings = {
        "command": f"`{command}` (what `make bench` runs)",
        "per cell": f"{args.warmup:g} s warm-up, then {args.seconds:g} s measured; {args.rounds} "
        "round(s), every other one in reverse order",
        "load generator": "wrk, 1 thread, one keep-alive connection per concurrent client, "
        "bodies from bench/post.lua",
        "stacks": "two `modelfleet up` stacks (services + gateway), batching on and off, from "
        f"{args.values.relative_to(ROOT) if args.values.is_relative_to(ROOT) else args.values} "
        "with one version per model at weight 100 and retries 0",
        "model services": f"1 gunicorn worker each, torchThreads {args.torch_threads}, "
        "maxWaitMs 0, maxQueue 256; batching on = maxBatchSize 32, off = 1",
    }  # fmt: skip
    described = {model: payload.description for model, payload in payloads.items()}
    args.out.write_text(render(results, facts, settings, described, args.models))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench`: drive every model with wrk, direct and through the gateway,
batching on and off, at concurrency 1 and 32; drive iris and minilm model services
beside the reference app and the in-process ceiling, one and two workers; write
bench/RESULTS.md.

    python -m bench [--models iris,digits,minilm] [--seconds 4] [--rounds 6]
                    [--suites fleet,servers]

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

from .overhead import SERVED, WORKERS, Servers, running_servers
from .payloads import PAYLOADS, Payload
from .report import Cell, Results, cpu_times, load_average, machine_facts, render, steal_share
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
    parser.add_argument(
        "--suites", default="fleet,servers",
        help="fleet: the two `modelfleet up` stacks; servers: runtime vs reference app and ceiling",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.suites = [s for s in args.suites.split(",") if s]
    if set(args.suites) - {"fleet", "servers"}:
        parser.error(f"unknown suites {args.suites}; known: fleet, servers")
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


def _drive(
    url: str,
    path: str,
    payload: Payload,
    bodies: list[Path],
    concurrency: int,
    pids: Sequence[int],
    label: str,
    args: argparse.Namespace,
) -> Measurement:
    options = {"connections": concurrency}
    run_wrk(url, path, payload.content_type, bodies, seconds=args.warmup, **options)
    measured = run_wrk(
        url, path, payload.content_type, bodies, seconds=args.seconds, pids=pids, **options
    )
    cpu = measured.cpu_ms_per_request
    print(
        f"{label}  {measured.rps:8.1f} req/s  p50 {measured.p50_ms:8.2f} ms  "
        f"p99 {measured.p99_ms:8.2f} ms  errors {measured.errors}"
        + ("" if cpu is None else f"  cpu {cpu:.3f} ms/req"),
        file=sys.stderr, flush=True,
    )  # fmt: skip
    return measured


def _measure_cell(
    stack: Stack, cell: Cell, payload: Payload, bodies: list[Path], args: argparse.Namespace
) -> Measurement:
    model, concurrency, route, batching = cell
    url, path = stack.target(model, batching, route)
    pids = [stack.gateway_pids[batching]] if route == "gateway" else []
    label = f"{model:>7} c={concurrency:<3} {route:>7} batching {batching:<3}"
    return _drive(url, path, payload, bodies, concurrency, pids, label, args)


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


def _measure_servers(
    servers: Servers,
    payloads: dict[str, Payload],
    bodies: dict[str, list[Path]],
    args: argparse.Namespace,
    results: Results,
) -> None:
    # As in the fleet: the two servers of a pair back to back, in reverse every other
    # round; each round ends with the ceilings, so all three share the round's load.
    for round_number in range(args.rounds):
        for model in [model for model in args.models if model in SERVED]:
            for workers in WORKERS:
                for concurrency in args.concurrency:
                    apps = [app for m, w, app in servers.urls if (m, w) == (model, workers)]
                    group = [(model, concurrency, workers, app) for app in apps]
                    for cell in group if round_number % 2 == 0 else reversed(group):
                        url = servers.urls[model, workers, cell[3]]
                        label = f"{model:>7} c={concurrency:<3} w={workers} {cell[3]:>9}"
                        path = f"/v1/models/{model}/predict"
                        pids = servers.measured_pids(url)
                        measured = _drive(
                            url,
                            path,
                            payloads[model],
                            bodies[model],
                            concurrency,
                            pids,
                            label,
                            args,
                        )
                        results.servers.setdefault(cell, []).append(measured)
                ceiling = servers.ceilings[model, workers].instances_per_second(args.seconds)
                print(f"{model:>7} w={workers} ceiling {ceiling:8.1f} instances/s", file=sys.stderr)
                results.ceilings.setdefault((model, workers), []).append(ceiling)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    wrk = wrk_version()
    facts = machine_facts(wrk) | {"load average at start (1, 5, 15 min)": load_average()}
    steal = cpu_times()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    payloads = {model: PAYLOADS[model]() for model in args.models}
    bodies = {model: payloads[model].write(WORK / "bodies" / model) for model in args.models}
    fleet = yaml.safe_load(args.values.read_text())
    registry = args.registry.resolve()
    results = Results(runs={})
    if "fleet" in args.suites:
        with running_stacks(fleet, args.models, registry, args.torch_threads, WORK) as stack:
            results = _measure_all(stack, payloads, bodies, args)
    served = [model for model in args.models if model in SERVED]
    if "servers" in args.suites and served:
        raw = {model: payloads[model].bodies for model in served}
        with running_servers(
            served, raw, registry, args.torch_threads, WORK / "servers"
        ) as servers:
            _measure_servers(servers, payloads, bodies, args, results)
    facts["load average at end (1, 5, 15 min)"] = load_average()
    facts["CPU steal during the run (hypervisor)"] = f"{steal_share(steal, cpu_times()):.1%}"
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
        "servers": "iris and minilm, 1 and 2 gunicorn workers: the model service (its defaults: "
        "metrics, tracing with the default sampler, the access log at info) and the reference "
        "app (bench/reference.py) from the same settings, maxBatchSize 32, maxWaitMs 0; "
        "the ceiling is `predict` on batches of 32 in one process per worker, all at once",
    }  # fmt: skip
    described = {model: payload.description for model, payload in payloads.items()}
    args.out.write_text(render(results, facts, settings, described, args.models))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`modelfleet up` (what `make run` runs) with real iris services, end to end.

One stack serves the module: the out-of-the-box split, pinning, sticky callers,
shadow agreement, values edits under load, and finally Ctrl-C with nothing left.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.charts.helm import ROOT
from tests.e2e.values import iris_values
from tests.processes import (
    Server,
    all_ready,
    launch_stack,
    marked_processes,
    stop_stack,
    wait_until,
)
from tests.tools import require_tool
from tests.traffic import Load, send_many, split

FLOWER = {"sepal_length": 6.1, "sepal_width": 2.8, "petal_length": 4.7, "petal_width": 1.2}


@dataclass
class Stack:
    server: Server
    values: Path
    marker: str

    @property
    def url(self) -> str:
        return self.server.url

    def edit(self, change: dict[str, object]) -> None:
        values = yaml.safe_load(self.values.read_text())
        values["models"]["iris"].update(change)
        self.values.write_text(yaml.safe_dump(values, sort_keys=False))

    def routes_sha(self) -> str:
        return str(httpx.get(f"{self.url}/models").json()["routes"]["sha256"])


def start_stack(folder: Path, registry: Path) -> Stack:
    """`modelfleet up` on the shipped values narrowed to iris (these cases are about
    routing), in its own session, every child marked."""
    values = iris_values(folder)
    server, marker = launch_stack(folder, values, registry)
    return Stack(server, values, marker)


def kill_leftovers(stack: Stack) -> None:
    """Teardown after a failed test: nothing of a stack may outlive the module."""
    stop_stack(stack.server, stack.marker)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("stack"), registry_root)
    try:
        wait_until(lambda: "modelfleet is up" in running.server.output(), 180, "the stack")
        wait_until(lambda: all_ready(running.url), 30, "every version ready")
        yield running
    finally:
        kill_leftovers(running)


def test_sigterm_while_starting_stops_every_process(tmp_path: Path, registry_root: Path) -> None:
    starting = start_stack(tmp_path, registry_root)
    try:
        wait_until(lambda: "[iris-v2]" in starting.server.output(), 60, "iris v2 starting")
        assert "modelfleet is up" not in starting.server.output()
        starting.server.process.send_signal(signal.SIGTERM)
        assert starting.server.process.wait(60) == 0
        wait_until(lambda: not marked_processes(starting.marker), 10, "every process gone")
        assert "[up] SIGTERM: stopping every process" in starting.server.output()
    finally:
        kill_leftovers(starting)


def test_a_version_that_keeps_crashing_is_left_down_while_the_rest_serves(
    tmp_path: Path, registry_root: Path
) -> None:
    values = iris_values(tmp_path)
    fleet = yaml.safe_load(values.read_text())
    # Below the runtime's minimum: digits v1 exits at start, every time.
    fleet["models"]["digits"] = {"maxBodyBytes": 5, "versions": {"v1": {"weight": 100}}}
    values.write_text(yaml.safe_dump(fleet, sort_keys=False))
    server, marker = launch_stack(tmp_path, values, registry_root)
    try:
        wait_until(lambda: "modelfleet is up" in server.output(), 180, "the stack")
        said = [re.sub(r"after \d+\.\ds", "after Ns", line)
                for line in server.output().splitlines() if line.startswith("[up] digits-v1 ")]  # fmt: skip
        crashed = "[up] digits-v1 exited with code 1 after Ns"
        assert said == [
            *(f"{crashed}; restart {n} in {delay}s" for n, delay in enumerate((1, 2, 4, 8), 1)),
            f"{crashed}, its crash 5 in a row: leaving it down, the others keep serving "
            "(see its output above; fix it, then restart the stack)",
        ]
        assert re.search(r"\[up\]\s+digits v1 .* DOWN: gave up on it, see above", server.output())
        answer = httpx.post(f"{server.url}/models/iris/predict", json=FLOWER)
        assert answer.status_code == 200 and server.process.poll() is None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
    finally:
        stop_stack(server, marker)


def test_out_of_the_box_4000_requests_split_90_10_within_2_points(stack: Stack) -> None:
    traffic = send_many(Load(f"{stack.url}/models/iris/predict", 4000, FLOWER, concurrency=8))
    assert traffic.failures == []
    shares = split(traffic.versions())
    assert abs(shares["v1"] - 0.90) < 0.02 and abs(shares["v2"] - 0.10) < 0.02, shares


def test_pinned_and_sticky_callers_with_real_iris(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url) as client:
        for _ in range(20):
            pinned = client.post(
                "/models/iris/predict", json=FLOWER, headers={"X-Model-Version": "v2"}
            )
            assert pinned.json()["version"] == pinned.headers["x-model-version"] == "v2"
        for user in ("ada", "grace", "linus"):
            seen = {client.post("/models/iris/predict", json=FLOWER,
                                headers={"X-User-Id": user}).headers["x-model-version"]
                    for _ in range(10)}  # fmt: skip
            assert len(seen) == 1


def shadow_results(url: str) -> dict[str, float]:
    results: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("modelfleet_gateway_shadow_total{"):
            results[line.split('result="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    return results


def test_shadow_copies_to_v2_are_compared_and_callers_only_see_v1(stack: Stack) -> None:
    sha = stack.routes_sha()
    stack.edit({"shadow": {"version": "v2", "percent": 100}})
    wait_until(lambda: stack.routes_sha() != sha, 10, "the shadow routes")
    pin = {"X-Model-Version": "v1"}
    traffic = send_many(Load(f"{stack.url}/models/iris/predict", 50, FLOWER, headers=lambda _: pin))
    assert traffic.failures == [] and traffic.versions() == {"v1": 50}
    wait_until(lambda: sum(shadow_results(stack.url).values()) == 50, 15, "50 compared shadows")
    assert shadow_results(stack.url).get("error", 0) == 0
    stack.edit({"shadow": {"version": "", "percent": 0}})


def test_a_values_edit_under_steady_load_moves_traffic_with_zero_failures(stack: Stack) -> None:
    load = Load(f"{stack.url}/models/iris/predict", 100_000, FLOWER, concurrency=4, pause=0.01,
                seconds=8.0)  # fmt: skip
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(send_many, load)
        time.sleep(2.0)
        stack.edit({"versions": {"v1": {"weight": 0}, "v2": {"weight": 100}}})
        traffic = running.result()
    assert traffic.failures == []
    assert split(traffic.versions(until=1.5)).get("v1", 0) > 0.75
    assert set(traffic.versions(since=5.0)) == {"v2"}, "the edit took effect within 3 s"
    assert "[up] routes updated: iris v1=0 v2=100" in stack.server.output()


def test_an_invalid_values_edit_changes_nothing_and_says_why(stack: Stack) -> None:
    sha = stack.routes_sha()
    stack.edit({"versions": {"v1": {"weight": 70}, "v2": {"weight": 70}}})
    reason = "iris: weights must sum to 100, they sum to 140"
    wait_until(lambda: reason in stack.server.output(), 10, "the rejection")
    assert "values rejected, routes unchanged" in stack.server.output()
    assert stack.routes_sha() == sha


def test_make_run_is_this_command() -> None:
    make = require_tool("make")
    dry = subprocess.run([make, "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert (
        "modelfleet up --values charts/modelfleet/values.yaml --registry registry --port 8123"
        in dry.stdout
    )


def test_ctrl_c_stops_every_process_of_the_stack(stack: Stack) -> None:
    assert len(marked_processes(stack.marker)) >= 6  # launcher, gateway, 2 masters, 4 workers
    stack.server.process.send_signal(signal.SIGINT)
    assert stack.server.process.wait(60) == 0
    wait_until(lambda: not marked_processes(stack.marker), 10, "every stack process gone")

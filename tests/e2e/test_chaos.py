"""Faults in a live `make run` fleet under steady load: the fleet heals, callers see nothing.

One stack (`modelfleet up`, iris v1 90 % / v2 10 %, the shipped canary guard) takes
steady concurrent load through its gateway for the whole module, while the tests,
in order, SIGKILL one worker, SIGKILL the whole stable version, SIGTERM it, break
the canary (a corrupted artifact: its restart cannot load) so that the guard
aborts it, SIGKILL the gateway, change the weights, and stop the stack while a
version waits out its backoff; then a new stack starts at once on the same port.
Each test checks the answers of its own stretch of the load.

Two settings are tightened so the module stays short: the ejection cool-down
(5 s rather than 10) and the guard's window (20 s rather than 60, so that fewer
good answers of the canary dilute the errors that abort it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.cli.fleet.children import STOP_GRACE_SECONDS
from tests.e2e.values import iris_values
from tests.processes import (
    Server,
    alive,
    child_pids,
    launch_stack,
    marked_processes,
    stop_stack,
    wait_until,
)
from tests.traffic import Answer, Load, Traffic, send_many

FLOWER = {"sepal_length": 6.1, "sepal_width": 2.8, "petal_length": 4.7, "petal_width": 1.2}
COOLDOWN_SECONDS = 5.0
PROBE_SECONDS = 1.0  # gateway/probe.py: how often ejected versions are probed
CONCURRENCY = 4
GUARD = {"enabled": True, "maxErrorRate": 0.2, "windowSeconds": 20, "minRequests": 20}
LOAD_LIMIT_SECONDS = 280.0  # the module's load ends by then whatever happens
LOAD_LIMIT_REQUESTS = 60_000


@dataclass
class Chaos:
    """The stack, its values file, and the load running against its gateway."""

    server: Server
    marker: str
    values: Path
    registry: Path
    traffic: Traffic
    stop_load: threading.Event
    load: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    def output(self) -> str:
        return self.server.output()

    def said(self, pattern: str, after: int = 0) -> bool:
        """Whether the stack's output, from character `after` on, matches `pattern`."""
        return re.search(pattern, self.output()[after:]) is not None

    def pid(self, name: str) -> int:
        """The launcher's live child running `name` (`gateway`, `iris-v1`, ...)."""
        for pid in filter(alive, child_pids(self.server.process.pid)):  # not a zombie
            environ = dict(_environ(pid))
            model, version = environ.get("MODELFLEET_MODEL"), environ.get("MODELFLEET_VERSION")
            if (f"{model}-{version}" if model else "gateway") == name:
                return pid
        raise LookupError(f"no process runs {name}")

    def has(self, name: str) -> bool:
        try:
            self.pid(name)
        except LookupError:
            return False
        return True

    def answers(self, since: float, until: float = float("inf")) -> list[Answer]:
        return [a for a in list(self.traffic.answers) if since <= a.at < until]

    def version(self, name: str) -> dict[str, Any]:
        models = httpx.get(f"{self.url}/models", timeout=10).json()["models"]
        return dict(next(v for v in models[0]["versions"] if v["version"] == name))

    def service_url(self, version: str) -> str:
        found = re.search(rf"\[up\]\s+iris {version}\s+(http://\S+)", self.output())
        if found is None:
            raise LookupError(f"iris {version} is not announced")
        return found.group(1)

    def edit(self, change: dict[str, Any]) -> None:
        values = yaml.safe_load(self.values.read_text())
        values["models"]["iris"].update(change)
        self.values.write_text(yaml.safe_dump(values, sort_keys=False))


def _environ(pid: int) -> Iterator[tuple[str, str]]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return
    for entry in filter(None, raw.split(b"\0")):
        key, _, value = entry.decode(errors="replace").partition("=")
        yield key, value


def served_by(answers: list[Answer], version: str) -> int:
    return sum(1 for a in answers if a.version == version and a.status == 200)


def wait_back_in_rotation(chaos: Chaos, version: str, ready_at: float) -> float:
    """Seconds from `ready_at` until the load's first answer from `version` after it."""
    wait_until(lambda: served_by(chaos.answers(ready_at), version) > 0,
               COOLDOWN_SECONDS + 15, f"{version} back in rotation")  # fmt: skip
    return min(a.at for a in chaos.answers(ready_at) if a.version == version) - ready_at


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory, registry_root: Path) -> Iterator[Chaos]:
    folder = tmp_path_factory.mktemp("chaos")
    values = iris_values(folder, guard=GUARD)
    registry = folder / "registry"  # a copy: one test corrupts an artifact for a while
    shutil.copytree(registry_root / "iris", registry / "iris")
    env = {"MODELFLEET_EJECT__COOLDOWN_SECONDS": str(COOLDOWN_SECONDS)}
    server, marker = launch_stack(folder, values, registry, env=env)
    stop_load = threading.Event()
    traffic = Traffic()
    load = Load(f"{server.url}/models/iris/predict", LOAD_LIMIT_REQUESTS, FLOWER,
                concurrency=CONCURRENCY, pause=0.02, seconds=LOAD_LIMIT_SECONDS,
                stop=stop_load)  # fmt: skip
    thread = threading.Thread(target=send_many, args=(load, traffic), daemon=True)
    running = Chaos(server, marker, values, registry, traffic, stop_load, thread)
    try:
        wait_until(lambda: "modelfleet is up" in server.output(), 180, "the stack")
        thread.start()
        wait_until(lambda: {"v1", "v2"} <= {a.version for a in traffic.answers}, 30,
                   "both versions answering")  # fmt: skip
        yield running
    finally:
        stop_load.set()
        if thread.is_alive():
            thread.join(60)
        stop_stack(server, marker)


def test_killing_one_worker_of_the_stable_version_loses_no_request(chaos: Chaos) -> None:
    start, seen = chaos.traffic.now(), len(chaos.output())
    master = chaos.pid("iris-v1")
    workers = child_pids(master)
    os.kill(workers[0], signal.SIGKILL)  # gunicorn replaces it; the stack has nothing to do
    ready = f"{chaos.service_url('v1')}/readyz"
    wait_until(lambda: workers[0] not in child_pids(master) and len(child_pids(master)) == 2
               and httpx.get(ready, timeout=5).status_code == 200, 60, "a new worker, loaded")  # fmt: skip
    time.sleep(1.0)  # some load on the healed version
    assert [a for a in chaos.answers(start) if a.status != 200] == []
    assert chaos.pid("iris-v1") == master
    assert not chaos.said(r"\[up\] (restarting|iris-v1 )", after=seen)


def test_a_killed_stable_version_is_restarted_and_back_in_rotation_within_its_cooldown(
    chaos: Chaos,
) -> None:
    start, seen = chaos.traffic.now(), len(chaos.output())
    others = chaos.pid("gateway"), chaos.pid("iris-v2")
    os.killpg(chaos.pid("iris-v1"), signal.SIGKILL)  # master and workers at once
    wait_until(lambda: chaos.said(r"\[up\] iris-v1 is ready again \(restart 1\)", seen), 90,
               "iris-v1 restarted and ready")  # fmt: skip
    ready_at = chaos.traffic.now()
    back = wait_back_in_rotation(chaos, "v1", ready_at)
    assert back <= COOLDOWN_SECONDS + PROBE_SECONDS + 1.0, f"v1 back {back:.1f}s after ready"
    time.sleep(1.0)
    assert [a for a in chaos.answers(start) if a.status != 200] == []
    assert served_by(chaos.answers(start, ready_at), "v2") > 0  # v2 served meanwhile
    assert chaos.said(
        r"\[up\] iris-v1 was killed by SIGKILL after \d+\.\ds; restart 1 in 1s\n[\s\S]*"
        r"\[up\] restarting iris-v1 \(restart 1\)", seen,
    )  # fmt: skip
    assert (chaos.pid("gateway"), chaos.pid("iris-v2")) == others  # nothing else moved
    assert chaos.server.process.poll() is None


def test_a_drained_stable_version_is_started_again_after_a_doubled_delay(chaos: Chaos) -> None:
    start, seen = chaos.traffic.now(), len(chaos.output())
    os.kill(chaos.pid("iris-v1"), signal.SIGTERM)  # gunicorn drains, then exits 0
    wait_until(lambda: chaos.said(r"\[up\] iris-v1 is ready again \(restart 2\)", seen), 90,
               "iris-v1 started again")  # fmt: skip
    ready_at = chaos.traffic.now()
    wait_back_in_rotation(chaos, "v1", ready_at)
    assert [a for a in chaos.answers(start) if a.status != 200] == []
    # Its last run was short, so this exit is its second in a row: twice the delay.
    assert chaos.said(r"\[up\] iris-v1 exited with code 0 after \d+\.\ds; restart 2 in 2s", seen)


def abort_canary_with_pinned_requests(chaos: Chaos) -> None:
    """Pinned requests, which no other version may answer, fail while v2 cannot serve
    and feed the guard (routed ones are failed over, and stop once v2 is ejected)."""
    with httpx.Client(base_url=chaos.url, timeout=10) as client:
        for _ in range(40):
            if chaos.version("v2")["guard"]["state"] == "aborted":
                return
            for _ in range(10):
                pinned = client.post("/models/iris/predict", json=FLOWER,
                                     headers={"X-Model-Version": "v2"})  # fmt: skip
                assert pinned.status_code == 503, pinned.text
    raise AssertionError("400 failed requests and the guard never aborted v2")


def test_a_canary_the_guard_aborted_stays_out_through_its_restart_and_the_gateways(
    chaos: Chaos,
) -> None:
    start, seen = chaos.traffic.now(), len(chaos.output())
    artifact = chaos.registry / "iris" / "v2" / "model.joblib"
    intact = artifact.read_bytes()
    artifact.write_bytes(intact + b"corrupt")  # its sha256 no longer matches the manifest
    os.killpg(chaos.pid("iris-v2"), signal.SIGKILL)
    wait_until(lambda: chaos.said(r"iris v2 will never become ready", seen), 60,
               "the restarted v2 refusing its artifact")  # fmt: skip
    abort_canary_with_pinned_requests(chaos)
    aborted_at = chaos.traffic.now()
    artifact.write_bytes(intact)
    os.killpg(chaos.pid("iris-v2"), signal.SIGKILL)  # a fixed canary, started again
    wait_until(lambda: chaos.said(r"\[up\] iris-v2 is ready again \(restart 2\)", seen), 90,
               "iris-v2 fixed and ready")  # fmt: skip
    wait_until(lambda: not chaos.version("v2")["ejected"], COOLDOWN_SECONDS + 10,
               "v2 readmitted by its probe: only the guard holds it now")  # fmt: skip
    time.sleep(1.0)
    assert [a for a in chaos.answers(start) if a.status != 200] == []

    killed_at, seen = chaos.traffic.now(), len(chaos.output())
    os.kill(chaos.pid("gateway"), signal.SIGKILL)
    wait_until(lambda: chaos.said(r"\[up\] gateway is ready again \(restart 1\)", seen), 60,
               "the gateway restarted")  # fmt: skip
    back_at = chaos.traffic.now()
    wait_until(lambda: len(chaos.answers(back_at)) >= 100, 30, "load through the new gateway")
    assert chaos.version("v2")["guard"]["state"] == "aborted"  # the hold outlived the gateway
    assert served_by(chaos.answers(aborted_at), "v2") == 0
    lost = [a for a in chaos.answers(killed_at) if a.status != 200]
    # Only what was in flight in the killed gateway; the launcher holds the listening
    # socket, so no caller is refused while the new gateway starts.
    assert len(lost) <= CONCURRENCY, lost
    assert all(a.status == 0 and "ConnectError" not in (a.error or "") for a in lost), lost
    assert [a for a in chaos.answers(back_at) if a.status != 200] == []


def test_changing_the_weights_rearms_the_canary_as_the_readme_says(chaos: Chaos) -> None:
    start, seen = chaos.traffic.now(), len(chaos.output())
    chaos.edit({"versions": {"v1": {"weight": 50}, "v2": {"weight": 50}}})
    wait_until(lambda: chaos.said(r"\[up\] routes updated: iris v1=50 v2=50", seen), 10,
               "the routes update")  # fmt: skip
    wait_until(lambda: chaos.version("v2")["guard"]["state"] == "watching", 10, "a fresh guard")
    changed_at = chaos.traffic.now()
    wait_until(lambda: served_by(chaos.answers(changed_at), "v2") >= 50, 30, "v2 serving again")
    assert [a for a in chaos.answers(start) if a.status != 200] == []


def time_wait_sockets(port: int) -> int:
    """TCP sockets in TIME_WAIT whose local port is `port` (IPv4, /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines
               if line.split()[3] == "06" and int(line.split()[1].split(":")[1], 16) == port)  # fmt: skip


def kill_and_read_the_delay(chaos: Chaos, name: str) -> int:
    """SIGKILL `name` (its whole group); the seconds the stack then says it will wait."""
    seen = len(chaos.output())
    os.killpg(chaos.pid(name), signal.SIGKILL)
    pattern = rf"\[up\] {name} was killed by SIGKILL after \d+\.\ds; restart \d+ in (\d+)s"
    wait_until(lambda: chaos.said(pattern, seen), 10, f"{name}'s exit")
    delay = int(re.findall(pattern, chaos.output()[seen:])[0])
    if delay < 4:  # let it start again, to be killed again
        wait_until(lambda: chaos.said(rf"\[up\] restarting {name}", seen) and chaos.has(name),
                   delay + 30, f"{name} started again")  # fmt: skip
    return delay


def test_ctrl_c_during_a_backoff_stops_everything_and_a_new_run_starts_at_once(
    chaos: Chaos, tmp_path: Path, registry_root: Path
) -> None:
    # Crashes in a row double the delay: kill it until the next start is 4 s away.
    delays: list[int] = []
    while not delays or delays[-1] < 4:
        assert len(delays) < 4, delays
        delays.append(kill_and_read_the_delay(chaos, "iris-v1"))
    seen = len(chaos.output())
    stopping = time.monotonic()
    chaos.server.process.send_signal(signal.SIGINT)  # the load still runs: callers keep
    assert chaos.server.process.wait(60) == 0  # connections open, so the gateway closes first
    assert time.monotonic() - stopping < STOP_GRACE_SECONDS + 5
    wait_until(lambda: not marked_processes(chaos.marker), 10, "every stack process gone")
    assert not chaos.said(r"\[up\] restarting iris-v1", seen)
    chaos.stop_load.set()
    chaos.load.join(60)

    port = chaos.server.port
    assert time_wait_sockets(port) > 0  # what used to make `make run` refuse the port
    again, marker = launch_stack(tmp_path, iris_values(tmp_path), registry_root, port=port)
    try:
        wait_until(lambda: "modelfleet is up" in again.output() or again.process.poll() is not None,
                   180, "the second stack")  # fmt: skip
        assert "modelfleet is up" in again.output(), again.output()
        assert httpx.post(f"{again.url}/models/iris/predict", json=FLOWER).status_code == 200
    finally:
        stop_stack(again, marker)

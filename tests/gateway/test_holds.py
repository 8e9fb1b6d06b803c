"""The guard's holds outlive a gateway restart, for the same routes table only."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.guard import GuardStatus
from gateway.holds import read_holds, write_holds
from tests.processes import stop_server
from tests.traffic import Load, send_many

from .harness import Gateway, GatewayFactory, Upstream, model_routes

GUARD = {"enabled": True, "maxErrorRate": 0.2, "windowSeconds": 60, "minRequests": 10}
HELD = {("iris", "v2"): GuardStatus("aborted", 12, 9)}


def test_holds_are_read_back_for_the_same_table_only(tmp_path: Path) -> None:
    state = tmp_path / "state" / "guard.json"
    write_holds(state, "sha-a", HELD)
    assert read_holds(state, "sha-a") == HELD
    assert read_holds(state, "sha-b") == {}  # the routes changed: re-armed
    assert read_holds(tmp_path / "absent.json", "sha-a") == {}


def test_an_unusable_state_file_means_no_holds_and_never_a_crash(tmp_path: Path) -> None:
    state = tmp_path / "guard.json"
    state.write_text("{not json")
    assert read_holds(state, "sha-a") == {}
    state.write_text(json.dumps({"routes_sha256": "sha-a", "held": [{"model": "iris"}]}))
    assert read_holds(state, "sha-a") == {}
    write_holds(tmp_path / "guard.json" / "below-a-file", "sha-a", HELD)  # logged, not raised


def canary_guard(gateway: Gateway) -> str:
    versions = gateway.models()["models"][0]["versions"]
    return str(next(v["guard"]["state"] for v in versions if v["version"] == "v2"))


def test_a_restarted_gateway_keeps_the_canary_out_until_the_routes_change(
    start_gateway: GatewayFactory, upstreams: dict[str, Upstream], tmp_path: Path
) -> None:
    env = {"MODELFLEET_GUARD_STATE_FILE": str(tmp_path / "guard.json")}
    routes = model_routes(upstreams, {"v1": 50, "v2": 50}, guard=GUARD, retries=0)
    first = start_gateway(routes, env=env)
    upstreams["v2"].control(status=500)
    send_many(Load(first.url + "/models/iris/predict", 100, {}, concurrency=4))
    assert canary_guard(first) == "aborted"
    stop_server(first.server)
    upstreams["v2"].control()  # healthy again: only the guard keeps it out now

    restarted = start_gateway(routes, env=env)  # the same table, byte for byte
    assert canary_guard(restarted) == "aborted"
    traffic = send_many(Load(restarted.url + "/models/iris/predict", 100, {}, concurrency=4))
    assert traffic.failures == [] and traffic.versions() == {"v1": 100}
    assert "canary still held by the guard, as before the restart" in restarted.server.output()
    metrics = httpx.get(f"{restarted.url}/metrics").text
    assert 'modelfleet_gateway_canary_aborted{model="iris",version="v2"} 1.0' in metrics
    restarted.apply_routes(model_routes(upstreams, {"v1": 60, "v2": 40}, guard=GUARD, retries=0))
    assert canary_guard(restarted) == "watching"
    again = start_gateway(routes, env=env)  # the first table again: it was re-armed
    assert canary_guard(again) == "watching"

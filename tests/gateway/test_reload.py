"""Hot reload of routes.yaml: under load without a failed request; bad edits rejected."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml

from tests.configmaps import write_volume
from tests.processes import wait_until
from tests.traffic import Load, send_many, split

from .harness import Gateway, GatewayFactory, Upstream, model_routes

PREDICT = "/models/iris/predict"


@pytest.fixture(scope="module")
def gateway(start_gateway: GatewayFactory, upstreams: dict[str, Upstream]) -> Gateway:
    return start_gateway(model_routes(upstreams, {"v1": 100, "v2": 0}))


def test_a_weight_edit_under_steady_load_moves_traffic_with_zero_failures(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    gateway.apply_routes(model_routes(upstreams, {"v1": 100, "v2": 0}))
    load = Load(gateway.url + PREDICT, 100_000, {}, concurrency=4, pause=0.01, seconds=6.0)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(send_many, load)
        time.sleep(2.0)
        gateway.write_routes(model_routes(upstreams, {"v1": 0, "v2": 100}))
        traffic = running.result()
    assert traffic.failures == []
    # Answers are timed from the start of the load; the edit came at about 2 s.
    assert set(traffic.versions(until=1.5)) == {"v1"}
    assert set(traffic.versions(since=5.0)) == {"v2"}, "the new weights took effect within 3 s"


def test_an_invalid_edit_changes_nothing_and_is_logged_with_its_reason(
    gateway: Gateway, upstreams: dict[str, Upstream]
) -> None:
    gateway.apply_routes(model_routes(upstreams, {"v1": 100, "v2": 0}))
    good = gateway.models()["routes"]["sha256"]
    bad = model_routes(upstreams, {"v1": 100, "v2": 0})
    bad["models"]["iris"]["versions"]["v1"]["weight"] = -5
    gateway.write_routes(bad)
    reason = "models.iris.versions.v1.weight: Input should be greater than or equal to 0"
    wait_until(lambda: reason in gateway.server.output(), 10, "the rejection in the log")
    assert "routes file rejected, keeping the last good table" in gateway.server.output()
    assert gateway.models()["routes"]["sha256"] == good
    traffic = send_many(Load(gateway.url + PREDICT, 20, {}))
    assert traffic.failures == [] and traffic.versions() == {"v1": 20}
    metrics = httpx.get(f"{gateway.url}/metrics").text
    assert 'modelfleet_gateway_routes_reloads_total{result="invalid"}' in metrics


def test_an_empty_or_truncated_file_keeps_the_last_good_table(gateway: Gateway) -> None:
    good = gateway.models()["routes"]["sha256"]
    gateway.write_routes("models:\n  iris:\n    versions: {v1: {url: http://127.0")
    wait_until(lambda: "not valid YAML" in gateway.server.output(), 10, "the YAML rejection")
    assert gateway.models()["routes"]["sha256"] == good


def test_a_configmap_style_symlink_swap_is_picked_up(
    start_gateway: GatewayFactory, upstreams: dict[str, Upstream]
) -> None:
    first = model_routes(upstreams, {"v1": 100})
    gateway = start_gateway(first)
    folder = gateway.routes_file.parent
    gateway.routes_file.unlink()
    write_volume(folder, {"routes.yaml": yaml.safe_dump(first)})
    write_volume(
        folder, {"routes.yaml": yaml.safe_dump(model_routes(upstreams, {"v1": 0, "v2": 100}))}
    )
    wait_until(
        lambda: httpx.post(gateway.url + PREDICT, json={}).headers["x-model-version"] == "v2",
        10, "the swapped ConfigMap to take effect",
    )  # fmt: skip
    assert split(send_many(Load(gateway.url + PREDICT, 20, {})).versions()) == {"v2": 1.0}

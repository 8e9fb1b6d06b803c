"""The local stack's planning: registry checks, ports, per-service settings, routes."""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.fleet.stack import (
    ServiceSpec,
    StackError,
    gateway_limits,
    load_values,
    plan_services,
    running_routes,
    service_environment,
)
from tests.charts.helm import ROOT

# The shipped values file, narrowed to iris so the cases stay fixed as models join the fleet.
VALUES: dict[str, Any] = yaml.safe_load((ROOT / "charts/modelfleet/values.yaml").read_text())
VALUES["models"] = {"iris": VALUES["models"]["iris"]}


def registry_with(tmp_path: Path, *versions: str) -> Path:
    for version in versions:
        folder = tmp_path / "iris" / version
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
    return tmp_path


def test_a_version_missing_from_the_registry_stops_the_start_naming_make_models(
    tmp_path: Path,
) -> None:
    with pytest.raises(StackError, match=r"iris v2.*run `make models`"):
        plan_services(VALUES, registry_with(tmp_path, "v1"))


def test_each_version_gets_its_own_port_starting_at_the_preferred_one(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        specs = plan_services(VALUES, registry_with(tmp_path, "v1", "v2"), first_port=taken)
    assert [(s.name, s.weight) for s in specs] == [("iris-v1", 90), ("iris-v2", 10)]
    assert taken not in {s.port for s in specs}
    assert len({s.port for s in specs}) == 2


def test_services_get_the_charts_settings_with_model_keys_replacing_defaults() -> None:
    values = copy.deepcopy(VALUES)
    values["models"]["iris"]["server"] = {"timeoutSeconds": 9}
    env = service_environment(values, ServiceSpec("iris", "v2", 8102, 10), Path("/r"))
    assert env["MODELFLEET_MODEL"] == "iris" and env["MODELFLEET_VERSION"] == "v2"
    assert (env["MODELFLEET_SERVER__HOST"], env["MODELFLEET_SERVER__PORT"]) == ("127.0.0.1", "8102")
    assert env["MODELFLEET_SERVER__WORKERS"] == "2"
    assert env["MODELFLEET_SERVER__TIMEOUT_SECONDS"] == "9"
    assert (
        "MODELFLEET_SERVER__KEEPALIVE_SECONDS" not in env
    )  # the model's `server` replaced it whole
    assert env["MODELFLEET_BATCHING__MAX_QUEUE"] == "256"
    assert env["MODELFLEET_MAX_BODY_BYTES"] == str(VALUES["modelDefaults"]["maxBodyBytes"])


def test_routes_point_at_the_local_ports_and_skip_versions_not_running() -> None:
    values = copy.deepcopy(VALUES)
    values["models"]["iris"]["versions"]["v3"] = {"weight": 0}
    values["models"]["iris"]["shadow"] = {"version": "v3", "percent": 100}
    specs = [ServiceSpec("iris", "v1", 8101, 90), ServiceSpec("iris", "v2", 8102, 10)]
    iris = running_routes(values, specs)["models"]["iris"]
    assert iris["versions"] == {
        "v1": {"url": "http://127.0.0.1:8101", "weight": 90},
        "v2": {"url": "http://127.0.0.1:8102", "weight": 10},
    }
    assert "shadow" not in iris  # its version has no running service


def test_a_values_file_without_models_is_refused(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("namePrefix: x\n")
    with pytest.raises(StackError, match="no `models` map"):
        load_values(tmp_path / "values.yaml")
    with pytest.raises(StackError, match="cannot read"):
        load_values(tmp_path / "absent.yaml")


def test_the_gateway_body_limit_comes_from_the_values_file() -> None:
    shipped = load_values(ROOT / "charts/modelfleet/values.yaml")
    assert gateway_limits(shipped) == {"MODELFLEET_MAX_BODY_BYTES": "8388608"}
    assert gateway_limits({"models": {}}) == {}


def test_a_gateway_port_with_a_live_listener_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        up = subprocess.run(
            [sys.executable, "-m", "services.cli", "up", "--values", str(values),
             "--registry", str(tmp_path / "none"), "--port", str(port),
             "--state-dir", str(tmp_path / "state")],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
    assert up.returncode == 1
    assert f"[up] error: port {port} is in use; pick another: make run PORT=8001" in up.stdout

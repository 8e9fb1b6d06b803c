"""The values each benchmark stack runs from."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.stack import BATCHING, bench_values
from services.cli.fleet.stack import ServiceSpec, service_environment

ROOT = Path(__file__).resolve().parents[2]
FLEET = yaml.safe_load((ROOT / "charts" / "modelfleet" / "values.yaml").read_text())


def test_each_model_runs_one_version_with_the_mode_batch_size_and_explicit_threads() -> None:
    values = bench_values(FLEET, ["iris", "minilm"], BATCHING["off"], torch_threads=1)
    assert list(values["models"]) == ["iris", "minilm"]
    for entry in values["models"].values():
        assert entry["versions"] == {"v1": {"weight": 100}}
        assert entry["retries"] == 0
    env = service_environment(values, ServiceSpec("minilm", "v1", 8123, 100), Path("registry"))
    assert env["MODELFLEET_BATCHING__MAX_BATCH_SIZE"] == "1"
    assert env["MODELFLEET_BATCHING__MAX_WAIT_MS"] == "0"
    assert env["MODELFLEET_SERVER__WORKERS"] == "1"
    assert env["MODELFLEET_TORCH_THREADS"] == "1"


def test_the_fleet_defaults_are_kept_and_the_fleet_is_not_changed() -> None:
    before = yaml.safe_dump(FLEET)
    values = bench_values(FLEET, ["iris"], BATCHING["on"], torch_threads=2)
    assert values["modelDefaults"] == FLEET["modelDefaults"]
    assert values["models"]["iris"]["batching"]["maxBatchSize"] == 32
    assert yaml.safe_dump(FLEET) == before

"""schemathesis against every model service of the values file and the gateway.

Each run fuzzes one OpenAPI document (fixed seed, bounded examples, no stored
examples between runs) with the checks below and must find nothing but the
findings accepted, with their reasons, in `schemathesis-accepted.yaml`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.tools import require_tool

from .conftest import MODELS, Fleet

HERE = Path(__file__).parent
CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
)  # fmt: skip
SEED = 20261122
EXAMPLES = 10
# What schemathesis calls the failure each check raises (part of a baseline entry).
FAILURES = {
    "positive_data_acceptance": "RejectedPositiveData",
    "negative_data_rejection": "AcceptedNegativeData",
}


def _services() -> list[str]:
    """`model-version` for every version the values file serves."""
    return [f"{model}-{version}" for model, versions in MODELS.items() for version in versions]


def _baseline(where: str, path: Path) -> Path:
    """schemathesis' baseline file of the accepted findings that apply to `where`."""
    accepted = yaml.safe_load((HERE / "schemathesis-accepted.yaml").read_text())
    entries = [
        {"operation": operation, "check": entry["check"], "failure": FAILURES[entry["check"]],
         "signature": str(entry["status"]), "reason": entry["reason"]}
        for entry in accepted if {"all", where} & set(entry["where"])
        for operation in entry["operations"]
    ]  # fmt: skip
    path.write_text(json.dumps({"format_version": 1, "entries": entries}))
    return path


TARGETS = [*_services(), "gateway"]


def _command(schemathesis: str, url: str, where: str, folder: Path) -> list[str]:
    return [
        schemathesis, "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{url}/openapi.json", "--checks", ",".join(CHECKS),
        "--seed", str(SEED), "--max-examples", str(EXAMPLES),
        "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
        "--workers", "1", "--request-timeout", "60", "--no-color",
        "--baseline", str(_baseline(where, folder / "baseline.json")),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def runs(
    fleet: Fleet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], Path]]]:
    """Every target's run, started at once (each fuzzes its own processes, so together
    they take about as long as the slowest alone); each test waits for its own."""
    schemathesis = require_tool("schemathesis")
    started = {}
    for target in TARGETS:
        model, _, version = target.partition("-")
        url = fleet.gateway if target == "gateway" else fleet.services[model][version]
        folder = tmp_path_factory.mktemp(f"schemathesis-{target}")
        log = folder / "output.txt"
        with log.open("wb") as sink:
            command = _command(schemathesis, url, model, folder)
            process = subprocess.Popen(command, cwd=folder, stdout=sink, stderr=subprocess.STDOUT)
        started[target] = (process, log)
    yield started
    for process, _ in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_schemathesis_finds_nothing_unaccepted(
    runs: dict[str, tuple[subprocess.Popen[bytes], Path]], target: str
) -> None:
    process, log = runs[target]
    returncode = process.wait(timeout=600)
    assert returncode == 0, log.read_text(errors="replace")[-15000:]

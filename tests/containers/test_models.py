"""Every model image, run as the chart runs it: ready, answering like the local
service, counting exactly, never root, never through a shell."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ServeModel
from tests.containers.answers import request_for, same
from tests.containers.conftest import MODEL_VERSIONS, Fleet
from tests.containers.podman import podman
from tests.processes import Server, wait_ready
from tests.scrape import samples, value

pytestmark = pytest.mark.slow
VERSIONS = pytest.mark.parametrize(
    ("model", "version"), MODEL_VERSIONS, ids=[f"{m}-{v}" for m, v in MODEL_VERSIONS]
)
SHELLS = {"sh", "bash", "dash", "ash", "zsh"}


@VERSIONS
def test_the_chart_s_probes_pass_once_the_model_is_loaded(
    fleet: Fleet, model: str, version: str
) -> None:
    pod = fleet.models[(model, version)]
    assert pod.container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod.probe("readinessProbe") and pod.probe("livenessProbe")
    metadata = httpx.get(f"{pod.url()}/v1/models/{model}", timeout=10).json()
    assert (metadata["version"], metadata["ready"]) == (version, True)


@pytest.fixture(scope="module")
def local_services(serve_model_module: ServeModel) -> dict[tuple[str, str], Server]:
    """Every version served from the venv as `modelfleet serve` does, started together."""
    started = {mv: serve_model_module(*mv, wait=None) for mv in MODEL_VERSIONS}
    return {mv: wait_ready(server, timeout=300) for mv, server in started.items()}


@VERSIONS
def test_a_prediction_answers_like_the_local_service(
    fleet: Fleet, local_services: dict[tuple[str, str], Server], model: str, version: str
) -> None:
    pod, local = fleet.models[(model, version)], local_services[(model, version)]
    request = request_for(pod.url(), model)
    assert request == request_for(local.url, model)
    artifacts = [
        httpx.get(f"{u}/v1/models/{model}").json()["artifact_sha256"]
        for u in (pod.url(), local.url)
    ]
    assert artifacts[0] == artifacts[1]
    there, here = request.send(pod.url()), request.send(local.url)
    assert there.status_code == here.status_code == 200, there.text
    assert same(there.json(), here.json()), (there.json(), here.json())


@VERSIONS
def test_metrics_count_exactly_what_was_served(fleet: Fleet, model: str, version: str) -> None:
    pod, labels = fleet.models[(model, version)], {"model": model, "version": version}
    request, requests = request_for(pod.url(), model), 5
    sha256 = httpx.get(f"{pod.url()}/v1/models/{model}").json()["artifact_sha256"]
    before = samples(pod.url())
    for _ in range(requests):
        answer = request.send(pod.url())
        assert answer.status_code == 200, answer.text
    after = samples(pod.url())

    def served(name: str, **more: str) -> float:
        return value(after, name, **labels, **more) - value(before, name, **labels, **more)

    assert served("modelfleet_requests_total", code="200") == requests
    assert served("modelfleet_request_duration_seconds_count") == requests
    assert served("modelfleet_batch_size_count") == requests  # one model call each
    assert served("modelfleet_batch_size_sum") == requests * request.instances
    assert value(after, "modelfleet_model_info", **labels, sha256=sha256) == 1
    assert value(after, "modelfleet_model_ready", **labels) == 1
    assert value(after, "modelfleet_inflight_requests", **labels) == 0


def test_no_process_runs_as_root_or_through_a_shell(fleet: Fleet) -> None:
    for pod in [*fleet.models.values(), fleet.gateway]:
        rows = [
            line.split(None, 1)
            for line in podman("top", pod.name, "huser", "args").splitlines()[1:]
        ]
        assert rows, pod.name
        for user, args in rows:
            assert user not in ("0", "root"), f"{pod.name}: {args} runs as root"
            assert args.split()[0].rsplit("/", 1)[-1] not in SHELLS, f"{pod.name}: {args}"


def test_every_image_starts_as_its_numeric_user_in_exec_form(fleet: Fleet) -> None:
    for pod in [*fleet.models.values(), fleet.gateway]:
        config = json.loads(
            podman("image", "inspect", "--format", "{{json .Config}}", pod.container["image"])
        )
        assert config["User"] == "10001:10001", pod.container["image"]
        assert config["Entrypoint"][0].rsplit("/", 1)[-1] not in SHELLS

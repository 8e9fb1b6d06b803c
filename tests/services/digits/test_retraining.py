"""Retraining digits over HTTP: jobs in a separate process, one at a time, never half-published.

The service runs under gunicorn with two workers on a writable copy of the
registry; training processes are real, and are killed for real.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from services.digits.data import split
from services.runtime.registry import Registry
from services.runtime.training import DEAD, JobStore
from tests.conftest import ServeModel
from tests.processes import Server, wait_until
from tests.services.digits.images import LOOKS, encode, picture

TRAIN = "/v1/models/digits/train"
PREDICT = "/v1/models/digits/predict"
MAX_EXAMPLES = 60
UPLOADS = 40
LONG = {"epochs": "200"}
"""Long enough to act on a running job; such jobs are always stopped, never awaited."""

Files = list[tuple[str, tuple[str | None, bytes, str] | tuple[None, bytes]]]


@pytest.fixture(scope="module")
def registry(registry_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("retraining") / "registry"
    shutil.copytree(registry_root / "digits" / "v1", root / "digits" / "v1")
    return Registry(root)


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel, registry: Registry) -> Server:
    env = {"MODELFLEET_TRAINING__MAX_EXAMPLES": str(MAX_EXAMPLES)}
    return serve_model_module("digits", "v1", registry=registry.root, workers=2, env=env)


@pytest.fixture(scope="module")
def client(service: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def no_job_outlives_its_test(registry: Registry) -> Iterator[None]:
    yield
    store = JobStore(registry, "digits")
    for job in store.jobs():
        # A queued job's process has not recorded its pid yet: wait for it to.
        wait_until(lambda j=job: (r := store.get(j.id)).finished or r.pid, 60, "a pid")
        record = store.get(job.id)
        if not record.finished and record.pid is not None:
            os.kill(record.pid, signal.SIGKILL)
        wait_until(lambda j=job: store.get(j.id).finished, 30, f"job {job.id} to end")


def labelled_files(count: int, *, named: bool = True, start: int = 0) -> Files:
    """Training-split digits as uploads, labelled by file name (`img_7.png`) or not."""
    data = split()
    files: Files = []
    for i in range(start, start + count):
        look = LOOKS[i % len(LOOKS)]
        name = f"img_{data.train_y[i]}.png" if named else f"upload{i}.png"
        files.append(("file", (name, encode(picture(data.train_x[i], look), "PNG"), "image/png")))
    return files


def start(client: httpx.Client, files: Files, **form: str) -> httpx.Response:
    return client.post(TRAIN, files=files, data=form)


def follow(client: httpx.Client, job_id: str, until: str, timeout: float = 120) -> dict[str, Any]:
    """Poll the job until `until` holds: "running" (with progress made) or "finished"."""
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(client.get(f"{TRAIN}/{job_id}").raise_for_status().json())
        if until == "running":
            return seen["state"] == "running" and seen["progress"] > 0
        return seen["state"] in ("succeeded", "failed")

    wait_until(reached, timeout, f"job {job_id} {until}", step=0.1)
    return seen


def running_job(client: httpx.Client) -> dict[str, Any]:
    response = start(client, labelled_files(MAX_EXAMPLES), **LONG)
    assert response.status_code == 202, response.text
    return follow(client, response.json()["id"], "running")


@pytest.fixture(scope="module")
def published(client: httpx.Client) -> dict[str, Any]:
    """A job that ran to the end, labelled by a form field this time."""
    files = labelled_files(UPLOADS, named=False, start=100)
    labels = ",".join(str(split().train_y[i]) for i in range(100, 100 + UPLOADS))
    response = start(client, files, labels=labels, epochs="6")
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"{TRAIN}/{response.json()['id']}"
    assert response.json()["state"] == "queued" and response.json()["parent"] == "v1"
    return follow(client, response.json()["id"], "finished")


def test_a_job_publishes_a_complete_version_with_its_accuracy(
    published: dict[str, Any], registry: Registry
) -> None:
    assert published["state"] == "succeeded", published
    assert published["progress"] == 1.0 and published["version"] is not None
    directory, manifest = registry.open("digits", published["version"])  # hashes verified
    assert sorted(manifest.files) == ["network.json", "weights.pt"]
    assert manifest.parent == "v1"
    assert manifest.params["job"] == published["id"] and manifest.params["epochs"] == 6
    assert manifest.metrics == published["metrics"]
    assert manifest.metrics["accuracy"] >= 0.95
    assert manifest.metrics["uploaded_examples"] == UPLOADS
    assert not list((directory.parent / ".jobs").glob("*.data.json"))


def test_a_new_process_serves_the_new_version_and_knows_the_job(
    published: dict[str, Any], registry: Registry, serve_model: ServeModel
) -> None:
    # As after a restart: a fresh service process reads everything from the registry.
    fresh = serve_model("digits", published["version"], registry=registry.root)
    with httpx.Client(base_url=fresh.url, timeout=30) as client:
        assert client.get(f"{TRAIN}/{published['id']}").json() == published
        assert published["id"] in [job["id"] for job in client.get(TRAIN).json()]
        data = split()
        files = [
            ("file", (f"{i}.png", encode(picture(data.test_x[i], LOOKS[1]), "PNG"), "image/png"))
            for i in range(100)
        ]
        response = client.post(PREDICT, files=files)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == published["version"]
    digits = [p["digit"] for p in response.json()["predictions"]]
    assert np.mean(np.array(digits) == data.test_y[:100]) >= 0.95


def test_two_concurrent_requests_start_one_job_and_refuse_the_other(
    client: httpx.Client,
) -> None:
    files = labelled_files(UPLOADS)
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: start(client, files, **LONG), range(2)))
    assert sorted(r.status_code for r in responses) == [202, 409], [r.text for r in responses]
    accepted = next(r for r in responses if r.status_code == 202).json()
    refused = next(r for r in responses if r.status_code == 409).json()
    assert accepted["id"] in refused["error"] and "one job runs at a time" in refused["error"]
    follow(client, accepted["id"], "running")
    again = start(client, files)
    assert again.status_code == 409 and accepted["id"] in again.json()["error"]


def test_serving_keeps_answering_while_a_job_trains(client: httpx.Client) -> None:
    job = running_job(client)
    data = split()
    for start_at in range(0, 200, 20):
        files = [
            ("file", (f"{i}.png", encode(picture(data.test_x[i], LOOKS[0]), "PNG"), "image/png"))
            for i in range(start_at, start_at + 20)
        ]
        response = client.post(PREDICT, files=files)
        assert response.status_code == 200, response.text
        digits = [p["digit"] for p in response.json()["predictions"]]
        assert np.mean(np.array(digits) == data.test_y[start_at : start_at + 20]) >= 0.9
        assert client.get("/healthz").status_code == 200
    assert client.get(f"{TRAIN}/{job['id']}").json()["state"] == "running"


def staging_dirs(registry: Registry) -> list[Path]:
    return list((registry.root / "digits").glob(".staging-*"))


def test_a_killed_training_process_leaves_no_partial_version(
    client: httpx.Client, registry: Registry
) -> None:
    versions = registry.versions("digits")
    job = running_job(client)
    record = JobStore(registry, "digits").read(job["id"])
    assert record.pid is not None and record.staging is not None
    assert Path(record.staging).is_dir()
    os.kill(record.pid, signal.SIGKILL)
    ended = follow(client, job["id"], "finished")
    assert (ended["state"], ended["error"], ended["version"]) == ("failed", DEAD, None)
    assert registry.versions("digits") == versions
    assert all(registry.manifest("digits", v) for v in versions)  # every version complete
    assert staging_dirs(registry) == []
    JobStore(registry, "digits").claim("0" * 32).release()  # the training lock is free again


def test_a_terminated_training_process_records_why_and_cleans_up(
    client: httpx.Client, registry: Registry
) -> None:
    versions = registry.versions("digits")
    job = running_job(client)
    pid = JobStore(registry, "digits").read(job["id"]).pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    ended = follow(client, job["id"], "finished")
    assert ended["state"] == "failed" and "SIGTERM" in ended["error"]
    assert registry.versions("digits") == versions
    assert staging_dirs(registry) == []


def test_an_unknown_job_is_404_and_a_malformed_id_422(client: httpx.Client) -> None:
    response = client.get(f"{TRAIN}/{'a' * 32}")
    assert response.status_code == 404 and "no training job" in response.json()["error"]
    response = client.get(f"{TRAIN}/not-a-job-id")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "path"


@pytest.mark.parametrize(
    ("files", "form", "loc", "message"),
    [
        (labelled_files(3, named=False), {}, ["body", "file", 0], "carries no label"),
        (labelled_files(3, named=False), {"labels": "1,2"}, ["body", "labels"], "2 labels for 3"),
        (labelled_files(2, named=False), {"labels": "1,12"}, ["body", "labels", 1], "less than"),
        (labelled_files(2, named=False), {"labels": "1,x"}, ["body", "labels", 1], "integer"),
        (labelled_files(2), {"epochs": "0"}, ["body", "epochs"], "greater than"),
        (labelled_files(2), {"momentum": "0.9"}, ["body", "momentum"], "Extra inputs"),
        (labelled_files(MAX_EXAMPLES + 1), {}, ["body", "file"], f"at most {MAX_EXAMPLES}"),
        ([("labels", (None, b"1"))], {}, ["body", "file"], "required"),
    ],
    ids=["no-label", "label-count", "label-range", "label-type", "epochs", "unknown-field",
         "too-many-files", "no-files"],
)  # fmt: skip
def test_bad_training_requests_are_422_naming_the_field(
    client: httpx.Client, files: Files, form: dict[str, str], loc: list, message: str
) -> None:
    response = start(client, files, **form)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc and message in detail[0]["msg"], detail


def test_a_bad_image_in_a_training_batch_is_named(client: httpx.Client) -> None:
    files = [*labelled_files(2), ("file", ("img_3.png", b"not a png", "image/png"))]
    response = start(client, files)
    assert response.status_code == 422
    assert response.json()["error"].startswith("file 3 (img_3.png): not an image")


def test_training_needs_a_multipart_body(client: httpx.Client) -> None:
    response = client.post(TRAIN, json={"labels": "1"})
    assert response.status_code == 415 and "multipart/form-data" in response.json()["error"]

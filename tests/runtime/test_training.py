"""Training job records and locks: one job at a time, dead jobs found out, nothing half-kept.

Locks are real `flock`s on real files, held by real processes that get killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.digits.schemas import DigitImage
from services.runtime.app import create_app
from services.runtime.errors import Conflict, JobNotFound, TrainingUnavailable
from services.runtime.registry import Registry
from services.runtime.settings import RuntimeSettings
from services.runtime.training import DEAD, Claim, Job, JobState, JobStore

FIRST, SECOND = "1" * 32, "2" * 32
EXAMPLE = DigitImage(pixels=[0.0] * 32 + [16.0] * 32)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(Registry(tmp_path / "registry"), "digits")


@pytest.fixture
def holder() -> Iterator[Callable[[Claim], subprocess.Popen[bytes]]]:
    """Start a process that inherits a claim's locks, as the training process does."""
    started: list[subprocess.Popen[bytes]] = []

    def hold(claim: Claim) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", "import time; time.sleep(120)"]
        started.append(subprocess.Popen(command, pass_fds=claim.fds))
        claim.release()
        return started[-1]

    yield hold
    for process in started:
        process.kill()
        process.wait()


def new_job(store: JobStore, job_id: str, **fields: object) -> Job:
    defaults = {"state": JobState.QUEUED, "created_at": datetime.now(UTC)}
    job = Job(id=job_id, model="digits", parent="v1", examples=1, **(defaults | fields))
    store.create(job, [EXAMPLE], [3])
    return job


def test_a_second_claim_is_refused_with_409_naming_the_first(store: JobStore) -> None:
    claim = store.claim(FIRST)
    new_job(store, FIRST)
    with pytest.raises(Conflict) as refused:
        store.claim(SECOND)
    assert refused.value.status_code == 409 and FIRST in refused.value.message
    claim.release()
    store.claim(SECOND).release()


def test_a_registry_that_cannot_be_written_makes_training_unavailable(tmp_path: Path) -> None:
    (tmp_path / "digits").write_text("a file where the model's folder should be")
    with pytest.raises(TrainingUnavailable) as refused:
        JobStore(Registry(tmp_path), "digits").claim(FIRST)
    assert refused.value.status_code == 503
    assert "writable registry" in refused.value.message


def test_the_claim_lives_exactly_as_long_as_the_process_holding_it(
    store: JobStore, holder: Callable[[Claim], subprocess.Popen[bytes]]
) -> None:
    process = holder(store.claim(FIRST))  # our own copies are released
    with pytest.raises(Conflict):
        store.claim(SECOND)
    process.send_signal(signal.SIGKILL)
    process.wait()
    store.claim(SECOND).release()


def test_a_live_job_is_reported_as_recorded(
    store: JobStore, holder: Callable[[Claim], subprocess.Popen[bytes]]
) -> None:
    claim = store.claim(FIRST)
    new_job(store, FIRST)
    holder(claim)
    assert store.get(FIRST).state == JobState.QUEUED


def test_a_dead_unfinished_job_is_marked_failed_and_its_leftovers_removed(
    store: JobStore, holder: Callable[[Claim], subprocess.Popen[bytes]]
) -> None:
    staging = store.directory.parent / ".staging-abc"
    claim = store.claim(FIRST)
    new_job(store, FIRST, state=JobState.RUNNING, staging=str(staging))
    staging.mkdir()
    (staging / "weights.pt").write_bytes(b"half a file")
    process = holder(claim)
    process.kill()
    process.wait()
    job = store.get(FIRST)
    assert (job.state, job.error, job.staging) == (JobState.FAILED, DEAD, None)
    assert job.finished_at is not None
    assert not staging.exists()
    assert sorted(p.name for p in store.directory.iterdir()) == ["1" * 32 + ".json", "train.lock"]


def test_the_reaper_deletes_only_staging_directories_of_its_own_model(
    store: JobStore, tmp_path: Path
) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    store.claim(FIRST).release()
    new_job(store, FIRST, state=JobState.RUNNING, staging=str(outside))
    assert store.get(FIRST).state == JobState.FAILED
    assert outside.is_dir()


def test_finishing_records_the_failure_and_drops_the_examples(store: JobStore) -> None:
    store.claim(FIRST).release()
    new_job(store, FIRST)
    with pytest.raises(RuntimeError), store.finishing(FIRST):
        raise RuntimeError("parent version does not match its manifest")
    job = store.read(FIRST)
    assert job.state == JobState.FAILED
    assert job.error == "parent version does not match its manifest"
    with pytest.raises(FileNotFoundError):
        store.dataset(FIRST, DigitImage, int)


def test_examples_and_labels_come_back_validated(store: JobStore) -> None:
    new_job(store, FIRST)
    examples, labels = store.dataset(FIRST, DigitImage, int)
    assert (examples, labels) == ([EXAMPLE], [3])


def test_jobs_are_listed_newest_first_and_unknown_ids_are_404(store: JobStore) -> None:
    assert store.jobs() == []
    for job_id, age in ((FIRST, 10), (SECOND, 5)):
        created = datetime.now(UTC) - timedelta(seconds=age)
        new_job(store, job_id, state=JobState.SUCCEEDED, version="v2", created_at=created)
    assert [job.id for job in store.jobs()] == [SECOND, FIRST]
    with pytest.raises(JobNotFound) as missing:
        store.get("3" * 32)
    assert missing.value.status_code == 404


def test_records_hide_internal_fields_from_the_api(store: JobStore) -> None:
    job = new_job(store, FIRST, pid=42, staging="/somewhere")
    assert {"pid", "staging"}.isdisjoint(job.public())
    assert job.public()["state"] == "queued"


@pytest.mark.parametrize(("model", "retrainable"), [("digits", True), ("iris", False)])
def test_only_retrainable_models_get_training_endpoints(
    model: str, retrainable: bool, tmp_path: Path
) -> None:
    settings = RuntimeSettings(model=model, version="v1", registry=tmp_path)
    paths = create_app(settings).openapi()["paths"]
    assert ("/v1/models/{name}/train" in paths) is retrainable
    assert ("/v1/models/{name}/train/{job}" in paths) is retrainable

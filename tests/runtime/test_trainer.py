"""The training process's work, run in this process on a real digits registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.digits import Model as DigitsModel
from services.digits.data import split
from services.runtime.errors import RegistryError
from services.runtime.registry import Registry
from services.runtime.trainer import run_job
from services.runtime.training import Job, JobState, JobStore
from tests.services.digits.images import LOOKS, encode, picture

JOB = "9" * 32
EXAMPLES = 12


def record_job(registry: Registry, model: str, options: dict[str, float]) -> JobStore:
    """A queued job with a dozen preprocessed uploads, as the API records it."""
    data, digits = split(), DigitsModel()
    examples = [
        digits.preprocess(encode(picture(data.train_x[i], LOOKS[i % 5]), "PNG"), "image/png")
        for i in range(EXAMPLES)
    ]
    labels = [int(label) for label in data.train_y[:EXAMPLES]]
    store = JobStore(registry, model)
    store.claim(JOB).release()
    job = Job(
        id=JOB, model=model, parent="v1", state=JobState.QUEUED, examples=EXAMPLES,
        options=options, created_at=datetime.now(UTC),
    )  # fmt: skip
    store.create(job, examples, labels)
    return store


def leftovers(registry: Registry, model: str) -> list[str]:
    """Staging directories, examples and lock files a finished job should not leave."""
    directory = registry.root / model
    names = [p.name for p in directory.glob(".staging-*")]
    return names + [p.name for p in (directory / ".jobs").glob(f"{JOB}.*") if p.suffix != ".json"]


def test_a_job_fine_tunes_the_parent_and_publishes_the_next_version(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("digits")
    before = registry.versions("digits")
    record_job(registry, "digits", {"epochs": 2, "learning_rate": 5e-4})
    job = run_job(registry, "digits", JOB, torch_threads=1)
    assert job.state == JobState.SUCCEEDED and job.progress == 1.0
    assert registry.versions("digits") == [*before, job.version]
    _, manifest = registry.open("digits", job.version or "")
    assert manifest.parent == "v1" and manifest.metrics == job.metrics
    assert manifest.metrics["uploaded_examples"] == EXAMPLES
    assert manifest.params == {"job": JOB, "examples": EXAMPLES, "epochs": 2,
                               "learning_rate": 5e-4}  # fmt: skip
    assert JobStore(registry, "digits").get(JOB) == job
    assert leftovers(registry, "digits") == []


def test_a_tampered_parent_fails_the_job_and_publishes_nothing(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("digits")
    before = registry.versions("digits")
    (registry.root / "digits" / "v1" / "weights.pt").write_bytes(b"swapped")
    store = record_job(registry, "digits", {"epochs": 1, "learning_rate": 5e-4})
    with pytest.raises(RegistryError):
        run_job(registry, "digits", JOB, torch_threads=1)
    job = store.get(JOB)
    assert job.state == JobState.FAILED and "does not match its manifest" in (job.error or "")
    assert registry.versions("digits") == before
    assert leftovers(registry, "digits") == []


def test_a_model_that_cannot_retrain_fails_the_job(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("iris")
    store = record_job(registry, "iris", {})
    with pytest.raises(TypeError):
        run_job(registry, "iris", JOB, torch_threads=1)
    assert store.get(JOB).error == "iris is not retrainable"

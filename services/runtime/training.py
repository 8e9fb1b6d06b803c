"""Background training jobs of retrainable models, recorded as files.

A job fine-tunes the serving version on uploaded labelled examples in a separate
process and publishes the result as a new registry version. Everything about a
job lives under `<registry>/<model>/.jobs/`, so every gunicorn worker, every
replica sharing the registry and a restarted service see the same state:

    train.lock       flock held by the process of the one job that may train
    <id>.json        the job record, replaced atomically on every change
    <id>.lock        flock held by that job's process for as long as it lives
    <id>.data.json   the uploaded examples, deleted when the job ends

One job at a time per model: a request that finds `train.lock` held is refused
with 409 (never queued), so no two jobs ever train from the same state at once
and a restart leaves no backlog behind. Locks are `fcntl.flock`s, which the
kernel releases when their holder dies however it dies; a job whose record says
queued or running but whose lock is free is therefore dead, and is marked failed
(its staging directory removed) the next time anyone reads it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, TypeAdapter

from .errors import Conflict, JobNotFound, TrainingUnavailable
from .registry import STAGING_PREFIX, Registry

__all__ = [
    "JOB_ID_PATTERN",
    "Claim",
    "FineTune",
    "Job",
    "JobState",
    "JobStore",
    "Progress",
    "Retrainable",
]

JOBS = ".jobs"
TRAIN_LOCK = "train.lock"
JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
HOLDER_LOOKS, HOLDER_PAUSE = 20, 0.025
DEAD = "the training process ended without finishing (killed, or the service restarted)"

Progress = Callable[[float], None]
"""Called by `fine_tune` with the fraction of the work done, 0..1."""


@dataclass(frozen=True)
class FineTune:
    """Everything one fine-tuning run needs; the model writes its artifact into `output`."""

    parent: Path
    """The verified artifact directory of the version to start from."""
    examples: list[Any]
    """Validated inputs (the model's `Input` schema), in upload order."""
    labels: list[Any]
    """One validated label per example."""
    options: Any
    """The model's validated `TrainOptions`."""
    output: Path
    """An empty staging directory: the new version's files go here."""


class Retrainable(ABC):
    """Mixin for a `Model` that can fine-tune itself into a new version.

    Such a model gets `POST /v1/models/{name}/train` and `GET .../train/{job}`.
    """

    Label: ClassVar[Any]
    """The type one label is validated against (anything pydantic accepts)."""
    TrainOptions: ClassVar[type[BaseModel]]
    """Form fields of a training request besides the files and labels."""

    @abstractmethod
    def fine_tune(self, task: FineTune, progress: Progress) -> dict[str, float]:
        """Train from `task.parent` into `task.output`; return held-out metrics for the manifest."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(BaseModel):
    id: str = Field(pattern=JOB_ID_PATTERN)
    model: str
    parent: str = Field(description="The serving version the job fine-tunes from")
    state: JobState
    progress: float = Field(0.0, ge=0, le=1, description="Fraction of the training done")
    examples: int = Field(ge=1, description="Labelled files uploaded")
    options: dict[str, Any] = Field(default_factory=dict)
    version: str | None = Field(None, description="The version published on success")
    metrics: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pid: int | None = None
    """Process id of the training process (on its host); not part of the API."""
    staging: str | None = None
    """Staging directory of a running job, removed if the job dies; not part of the API."""

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"pid", "staging"})


@dataclass
class Claim:
    """The right to train, held as open locked descriptors until `release`.

    Pass `fds` to the training process: the locks then live as long as it does.
    """

    job_id: str
    fds: tuple[int, ...]

    def release(self) -> None:
        for fd in self.fds:
            with suppress(OSError):
                os.close(fd)


def now() -> datetime:
    return datetime.now(UTC)


class JobStore:
    """The training jobs of one model in one registry."""

    def __init__(self, registry: Registry, model: str) -> None:
        self.model = model
        self.directory = registry.root / model / JOBS

    def _path(self, job_id: str, suffix: str) -> Path:
        return self.directory / f"{job_id}{suffix}"

    def claim(self, job_id: str) -> Claim:
        """Take the model's training lock for `job_id`, or raise Conflict naming the holder."""
        model_fd = self._open_train_lock()
        try:
            fcntl.flock(model_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(model_fd)
            os.close(model_fd)
            raise Conflict(
                f"{self.model} is already training (job {holder}); one job runs at a time per "
                f"model: follow GET /v1/models/{self.model}/train/{holder} and retry when it "
                "has finished"
            ) from None
        # Ids have one length, so this overwrites the last holder's id whole.
        os.pwrite(model_fd, job_id.encode(), 0)
        os.ftruncate(model_fd, len(job_id))
        job_fd = os.open(self._path(job_id, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(job_fd, fcntl.LOCK_EX)  # a new file: nobody else can hold it
        return Claim(job_id, (model_fd, job_fd))

    def _open_train_lock(self) -> int:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            return os.open(self.directory / TRAIN_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TrainingUnavailable(
                f"training needs a writable registry (jobs and new versions are written "
                f"there), and {self.directory} is not: {exc.strerror or exc}"
            ) from exc

    def _holder(self, lock_fd: int) -> str:
        """The id of the unfinished job holding the lock (read from the lock file).

        A new holder writes its id, then its record, just after taking the lock:
        until both are there the file may still name the previous job, so look again.
        """
        for _ in range(HOLDER_LOOKS):
            job_id = os.pread(lock_fd, 64, 0).decode(errors="replace")
            if self._unfinished(job_id):
                return job_id
            time.sleep(HOLDER_PAUSE)
        return "unknown"

    def _unfinished(self, job_id: str) -> bool:
        recorded = re.fullmatch(JOB_ID_PATTERN, job_id) and self._path(job_id, ".json").is_file()
        return bool(recorded) and not self.read(job_id).finished

    def create(self, job: Job, examples: list[BaseModel], labels: list[Any]) -> None:
        """Record a new job and its examples (call while holding its claim)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {"examples": [e.model_dump(mode="json") for e in examples], "labels": labels}
        _write_atomic(self._path(job.id, ".data.json"), json.dumps(data).encode())
        self.write(job)

    def dataset(
        self, job_id: str, schema: type[BaseModel], label: Any
    ) -> tuple[list[Any], list[Any]]:
        raw = json.loads(self._path(job_id, ".data.json").read_bytes())
        labels = TypeAdapter(list[label]).validate_python(raw["labels"])
        return [schema.model_validate(e) for e in raw["examples"]], labels

    def drop_dataset(self, job_id: str) -> None:
        self._path(job_id, ".data.json").unlink(missing_ok=True)

    def write(self, job: Job) -> None:
        _write_atomic(self._path(job.id, ".json"), job.model_dump_json(indent=2).encode())

    def read(self, job_id: str) -> Job:
        path = self._path(job_id, ".json")
        if not path.is_file():
            raise JobNotFound(f"{self.model} has no training job {job_id!r}")
        return Job.model_validate_json(path.read_bytes())

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a record. Only the job's own process (or the reaper of a
        dead job) writes a record, so read-modify-write needs no further lock."""
        job = Job.model_validate({**self.read(job_id).model_dump(), **changes})
        self.write(job)
        return job

    def get(self, job_id: str) -> Job:
        """A job's record; a dead unfinished job is marked failed on the way."""
        job = self.read(job_id)
        if job.finished or self._alive(job_id):
            return job
        job = self.read(job_id)  # its process writes the final state before it lets go
        return job if job.finished else self._reap(job)

    def _reap(self, job: Job) -> Job:
        staging = Path(job.staging or "/")
        # Only ever delete a registry staging directory of this model, whatever the record says.
        if staging.parent == self.directory.parent and staging.name.startswith(STAGING_PREFIX):
            shutil.rmtree(staging, ignore_errors=True)
        self.drop_dataset(job.id)
        failed = self.update(
            job.id, state=JobState.FAILED, error=DEAD, staging=None, finished_at=now()
        )
        self._path(job.id, ".lock").unlink(missing_ok=True)
        return failed

    def jobs(self) -> list[Job]:
        """Every job of the model, newest first."""
        if not self.directory.is_dir():
            return []
        ids = [p.name.removesuffix(".json") for p in self.directory.glob("*.json")]
        jobs = [self.get(i) for i in ids if re.match(JOB_ID_PATTERN, i)]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def _alive(self, job_id: str) -> bool:
        try:
            fd = os.open(self._path(job_id, ".lock"), os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # its process still holds the lock
        finally:
            os.close(fd)  # also drops the lock if we just took it
        return False

    @contextmanager
    def finishing(self, job_id: str) -> Iterator[None]:
        """Record any failure of the enclosed run (the error, not the traceback) and re-raise."""
        try:
            yield
        except BaseException as exc:
            message = str(exc) or type(exc).__name__
            self.update(
                job_id, state=JobState.FAILED, error=message, staging=None, finished_at=now()
            )
            raise
        finally:
            self.drop_dataset(job_id)
            # The final state is written: nobody needs to ask whether the job lives.
            self._path(job_id, ".lock").unlink(missing_ok=True)


def _write_atomic(path: Path, payload: bytes) -> None:
    # Readers in other processes see the old or the new file, never half of one.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(payload)
    temporary.replace(path)

"""The training process: runs one recorded job (see `training.py`), then exits.

    python -m services.runtime.trainer --registry DIR --model NAME --job ID

The API starts it with the job's locks inherited, so they are held exactly as
long as this process lives. It lowers its CPU priority and runs torch on few
threads so the service it was started from keeps answering at full speed. It
fine-tunes inside a registry staging directory and publishes from there: a
failure is recorded in the job and the staging directory removed, so no partial
version can ever appear. SIGTERM becomes such a recorded failure as well.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .logs import configure_logging
from .registry import Registry
from .service import model_class
from .settings import TrainingSettings
from .training import Claim, FineTune, Job, JobState, JobStore, Retrainable, now

__all__ = ["launch", "main", "run_job"]

logger = logging.getLogger("modelfleet.trainer")


def launch(registry: Path, model: str, claim: Claim, settings: TrainingSettings) -> int:
    """Start the training process for a claimed job; returns its pid."""
    command = [
        sys.executable, "-m", "services.runtime.trainer",
        "--registry", str(registry), "--model", model, "--job", claim.job_id,
        "--torch-threads", str(settings.torch_threads), "--niceness", str(settings.niceness),
    ]  # fmt: skip
    threads = str(settings.torch_threads)
    env = os.environ | {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    process = subprocess.Popen(command, env=env, pass_fds=claim.fds, stdin=subprocess.DEVNULL)
    # Collect its exit status so it never lingers as a zombie of the worker.
    threading.Thread(target=process.wait, name=f"trainer-{claim.job_id}", daemon=True).start()
    return process.pid


def run_job(registry: Registry, model: str, job_id: str, torch_threads: int) -> Job:
    """Fine-tune the job's parent version and publish the result as a new version."""
    store = JobStore(registry, model)
    with store.finishing(job_id):
        job = store.read(job_id)
        cls: Any = model_class(model)
        if not issubclass(cls, Retrainable):
            raise TypeError(f"{model} is not retrainable")
        parent, _ = registry.open(model, job.parent)
        examples, labels = store.dataset(job_id, cls.Input, cls.Label)
        options = cls.TrainOptions.model_validate(job.options)
        instance = cls(torch_threads=torch_threads)
        with registry.staging(model) as staged:
            store.update(
                job_id,
                state=JobState.RUNNING,
                started_at=now(),
                pid=os.getpid(),
                staging=str(staged),
            )
            task = FineTune(parent, examples, labels, options, staged)
            metrics = instance.fine_tune(task, lambda done: _progress(store, job_id, done))
            manifest = registry.publish(
                model, staged, framework=cls.framework, parent=job.parent, metrics=metrics,
                params={"job": job_id, "examples": job.examples, **job.options},
            )  # fmt: skip
        return store.update(
            job_id, state=JobState.SUCCEEDED, progress=1.0, version=manifest.version,
            metrics=manifest.metrics, staging=None, finished_at=now(),
        )  # fmt: skip


def _progress(store: JobStore, job_id: str, done: float) -> None:
    store.update(job_id, progress=round(min(max(done, 0.0), 1.0), 4))


def _terminate(signum: int, frame: Any) -> None:
    # Unwinds through `finishing` and `staging`: the failure is recorded, the
    # staging directory removed.
    raise SystemExit(f"training stopped by {signal.Signals(signum).name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.runtime.trainer")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--niceness", type=int, default=10)
    args = parser.parse_args(argv)
    configure_logging("info")
    signal.signal(signal.SIGTERM, _terminate)
    os.nice(args.niceness)
    try:
        job = run_job(Registry(args.registry), args.model, args.job, args.torch_threads)
    except Exception:
        logger.exception("training job %s of %s failed", args.job, args.model)
        return 1
    logger.info("training job %s published %s %s %s", job.id, job.model, job.version, job.metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""HTTP endpoints of training jobs, for models that are `Retrainable`.

`POST /v1/models/{name}/train` takes multipart `file` uploads with labels (a
`labels` form field, comma-separated in upload order, or each file's name:
`img_7.png` is labelled 7), validates every file and label at once, and starts a
job (202 + `Location`). `GET .../train/{job}` follows it; `GET .../train` lists
them. A second request while a job is queued or running is refused with 409.
"""

# No `from __future__ import annotations`: the form type is built at run time
# and FastAPI must see it as an object in the endpoint's signature.
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError, create_model
from starlette.concurrency import run_in_threadpool

from .dependencies import Service, check_model, require_media_type
from .model import Model
from .responses import MODEL_422, answers
from .service import ModelService
from .trainer import launch
from .training import JOB_ID_PATTERN, Job, JobState, JobStore, Retrainable, now
from .typed import preprocess_upload

__all__ = ["POLICY", "training_router"]

POLICY = (
    "Fine-tunes the serving version on the uploaded labelled files in a separate, low-priority "
    "process, evaluates it on held-out data and publishes the result as a new immutable "
    "registry version (its manifest records the parent version and the metrics). Label each "
    "file with the `labels` field (comma-separated, in upload order) or by its file name "
    "(`img_7.png` is labelled 7). **One job at a time per model:** while a job is queued or "
    "running, another request is refused with 409 naming that job; it is never queued. "
    "Follow the job at the `Location` answered."
)
_NAME_LABEL = re.compile(r"[_-]([^_./\\-]+)\.[A-Za-z0-9]+$")


def _form_type(model: type[Retrainable], max_examples: int) -> Any:
    return create_model(
        f"{model.__name__}TrainForm",
        __base__=model.TrainOptions,
        file=(list[UploadFile], Field(min_length=1, max_length=max_examples,
                                      description="Labelled files to fine-tune on")),
        labels=(str | None, Field(None, description="Comma-separated labels in upload order "
                                  "(default: from file names like img_7.png)")),
    )  # fmt: skip


def training_router(model: type[Model[Any, Any]], max_examples: int) -> APIRouter:
    if not issubclass(model, Retrainable):
        raise TypeError(f"{model.__name__} is not Retrainable")
    router = APIRouter(
        prefix="/v1/models/{name}/train", tags=[f"{model.name} (training)"],
        dependencies=[check_model(model.name)], responses=answers(404),
    )  # fmt: skip
    form_type = _form_type(model, max_examples)
    label_type = TypeAdapter(model.Label)
    job_id = Path(pattern=JOB_ID_PATTERN, description="The id a training request answered")

    async def start(
        form: Annotated[form_type, File()],  # type: ignore[valid-type]
        service: Service,
        response: Response,
    ) -> dict[str, Any]:
        service.require_ready()
        labels = _labels(form.labels, [f.filename or "" for f in form.file], label_type)
        examples = [
            await preprocess_upload(service, i, upload) for i, upload in enumerate(form.file, 1)
        ]
        options = model.TrainOptions.model_validate(form.model_dump(exclude={"file", "labels"}))
        job = await run_in_threadpool(_start_job, service, examples, labels, options.model_dump())
        response.headers["Location"] = f"/v1/models/{service.name}/train/{job.id}"
        return job.public()

    router.add_api_route(
        "", start, methods=["POST"], status_code=202, name="train", description=POLICY,
        summary=f"Start a job that fine-tunes {model.name} into a new version",
        dependencies=[require_media_type("multipart/form-data")],
        responses={**answers(400, 409, 413, 415, 500, 503), 422: MODEL_422},
    )  # fmt: skip

    @router.get(
        "/{job}", name="training_job", summary="State of one training job", responses=answers(422)
    )
    async def status(job: Annotated[str, job_id], service: Service) -> dict[str, Any]:
        store = JobStore(service.registry, service.name)
        return (await run_in_threadpool(store.get, job)).public()

    @router.get("", name="training_jobs", summary="Every training job, newest first")
    async def jobs(service: Service) -> list[dict[str, Any]]:
        store = JobStore(service.registry, service.name)
        return [job.public() for job in await run_in_threadpool(store.jobs)]

    return router


def _labels(field: str | None, names: list[str], adapter: TypeAdapter[Any]) -> list[Any]:
    if field is not None:
        raw: list[str | None] = [part.strip() for part in field.split(",")]
        if len(raw) != len(names):
            _invalid(("body", "labels"), f"{len(raw)} labels for {len(names)} files")
        where = [("body", "labels", i) for i in range(len(raw))]
    else:
        raw = [m.group(1) if (m := _NAME_LABEL.search(n)) else None for n in names]
        where = [("body", "file", i) for i in range(len(raw))]
    errors, labels = [], []
    for loc, text, name in zip(where, raw, names, strict=True):
        try:
            if text is None:
                raise ValueError(f"file name {name!r} carries no label (name it like img_7.png)")
            labels.append(adapter.validate_python(text))
        except (ValidationError, ValueError) as exc:
            errors.append({"type": "label", "loc": loc, "msg": f"{name}: {_message(exc)}"})
    if errors:
        raise RequestValidationError(errors)
    return labels


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]) for e in exc.errors())
    return str(exc)


def _invalid(loc: tuple[str, ...], message: str) -> None:
    raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def _start_job(
    service: ModelService, examples: list[Any], labels: list[Any], options: dict[str, Any]
) -> Job:
    store = JobStore(service.registry, service.name)
    claim = store.claim(uuid.uuid4().hex)
    try:
        job = Job(
            id=claim.job_id, model=service.name, parent=service.version, state=JobState.QUEUED,
            examples=len(examples), options=options, created_at=now(),
        )  # fmt: skip
        store.create(job, examples, labels)
        launch(service.registry.root, service.name, claim, service.settings.training)
        return job
    finally:
        claim.release()  # the training process holds its own copies of the locks

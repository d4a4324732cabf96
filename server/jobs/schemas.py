"""A job as tools show it: get_job, and the tools that hand long work to the queue."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from server.db.values import utc

if TYPE_CHECKING:
    from server.db.models import Job

JobStatus = Literal["queued", "running", "succeeded", "failed", "dead"]


class JobProgress(BaseModel):
    done: int
    total: int | None = Field(description="Null while the job does not know its size yet.")
    message: str | None


class JobView(BaseModel):
    job_id: int = Field(description="Pass to get_job to follow the job.")
    kind: str = Field(
        description="train_categorizer, categorize_backlog, forecast_snapshot or import_company."
    )
    status: JobStatus = Field(
        description="queued (waiting, or waiting to be retried after a failure), running, succeeded, "
        "failed (ran inline and failed) or dead (failed every attempt: an operator retries it)."
    )
    attempts: int
    progress: JobProgress
    result: dict[str, Any] | None = Field(description="What the job did; set once it succeeded.")
    error: str | None = Field(description="Why the last attempt failed, if it did.")
    created_at: dt.datetime
    finished_at: dt.datetime | None


def view(job: Job) -> JobView:
    return JobView(
        job_id=job.id,
        kind=job.kind,
        status=job.status,
        attempts=job.attempts,
        progress=JobProgress(done=job.progress_done, total=job.progress_total, message=job.progress_message),
        result=job.result,
        error=job.error,
        created_at=utc(job.created_at),
        finished_at=utc(job.finished_at) if job.finished_at else None,
    )


def summary(job: JobView) -> str:
    """One line for the model about where a job stands."""
    total = f" of {job.progress.total}" if job.progress.total is not None else ""
    where = f"{job.progress.done}{total}" + (f" ({job.progress.message})" if job.progress.message else "")
    if job.status == "succeeded":
        return f"Job {job.job_id} ({job.kind}) succeeded: {where}."
    if job.status in ("failed", "dead"):
        return f"Job {job.job_id} ({job.kind}) is {job.status} after {job.attempts} attempt(s): {job.error}"
    return f"Job {job.job_id} ({job.kind}) is {job.status}: {where}. Call get_job again later."

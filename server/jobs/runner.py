"""Running a job's code: the same handler inline (no queue) or on a worker, with the job's row saying
how far it got and how it ended.

A handler does its work in transactions of its own and ends with `succeed_in(session, result)` in the
transaction that stores its last piece of work: a worker killed before that commit leaves no trace of
the unfinished piece, and one killed after it leaves the job succeeded, so a retry does nothing twice.
A handler that works in pieces (a backlog) saves a checkpoint with each piece (`checkpoint_in`) and
starts from `run.checkpoint`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.context import AppContext, Caller
from server.db.models import Company, Job, utcnow
from server.errors import OutlayError
from server.jobs import store

log = logging.getLogger("outlay.jobs")

Handler = Callable[["JobRun"], Awaitable[None]]
Handlers = Mapping[str, Handler]


class JobFailed(OutlayError):
    """A job that ran inline and failed; the message is the job's error."""


@dataclass(frozen=True)
class JobRun:
    """What a handler gets: the application, and its job as it was when this attempt started."""

    app: AppContext
    job_id: int
    company_id: int
    kind: str
    arguments: dict[str, Any]
    checkpoint: dict[str, Any]
    attempt: int

    @property
    def actor(self) -> str:
        return f"job:{self.job_id}"

    async def caller(self, session: AsyncSession) -> Caller:
        """The company the job belongs to, as the caller its capability code expects."""
        company = await session.get_one(Company, self.company_id)
        return Caller(company.id, company.slug, company.name, company.currency, self.actor)

    async def progress(self, done: int, total: int | None, message: str) -> None:
        """Say how far the job got, at once (its own transaction)."""
        async with self.app.sessions() as session, session.begin():
            await self.checkpoint_in(session, None, done, total, message)

    async def checkpoint_in(
        self,
        session: AsyncSession,
        checkpoint: dict[str, Any] | None,
        done: int,
        total: int | None,
        message: str,
    ) -> None:
        """Progress (and, given, where a retry resumes), committed with the caller's own work."""
        job = await session.get_one(Job, self.job_id)
        job.progress_done, job.progress_total, job.progress_message = done, total, message[:200]
        if checkpoint is not None:
            job.checkpoint = checkpoint

    async def succeed_in(self, session: AsyncSession, result: dict[str, Any]) -> None:
        job = await session.get_one(Job, self.job_id)
        store.finish(job, "succeeded", result=result)
        job.progress_done = job.progress_total or job.progress_done


async def start(app: AppContext, job_id: int) -> JobRun | None:
    """Mark the job running (one more attempt); None when there is nothing to run (gone or finished)."""
    async with app.sessions() as session, session.begin():
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status in store.FINISHED:
            return None
        job.status, job.attempts, job.started_at = "running", job.attempts + 1, job.started_at or utcnow()
        return JobRun(
            app,
            job.id,
            job.company_id,
            job.kind,
            dict(job.arguments),
            dict(job.checkpoint or {}),
            job.attempts,
        )


async def execute(app: AppContext, handlers: Handlers, job_id: int, *, max_attempts: int) -> str | None:
    """Run one attempt of the job: its status afterwards (None: nothing to run). A failure with attempts
    left sets the job back to queued and raises, for the queue to try again after its backoff; the
    last one leaves it dead (the dead-letter view of `outlay jobs list --dead`)."""
    run = await start(app, job_id)
    if run is None:
        return None
    handler = handlers.get(run.kind)
    try:
        if handler is None:
            raise OutlayError(f"no worker code for jobs of kind {run.kind!r}")
        await handler(run)
    except Exception as exc:
        final = run.attempt >= max_attempts
        await _failed(app, run, exc, final=final)
        if final:
            return _final_status(app)
        raise
    async with app.sessions() as session, session.begin():
        job = await session.get_one(Job, job_id)
        if job.status not in store.FINISHED:  # a handler that wrote nothing of its own
            store.finish(job, "succeeded", result={})
        return job.status


async def _failed(app: AppContext, run: JobRun, exc: Exception, *, final: bool) -> None:
    error = str(exc) if isinstance(exc, OutlayError) else f"{type(exc).__name__}: {exc}"
    log.warning(
        "job failed",
        extra={"job": run.job_id, "kind": run.kind, "attempt": run.attempt, "final": final, "error": error},
    )
    async with app.sessions() as session, session.begin():
        job = await session.get_one(Job, run.job_id)
        if final:
            store.finish(job, _final_status(app), error=error)
        else:
            job.status, job.error = "queued", error


def _final_status(app: AppContext) -> str:
    """What a job that failed its last attempt is: `failed` inline (the caller got the error), `dead` on
    the queue (nobody did: the dead-letter view lists it)."""
    return "failed" if app.settings.jobs.queue == "inline" else "dead"


@dataclass(frozen=True)
class Submission:
    company_id: int
    kind: str
    arguments: dict[str, Any]
    requested_by: str
    key: str | None = None


async def submit(app: AppContext, handlers: Handlers, submission: Submission) -> tuple[Job, bool]:
    """Create the job (or find the one its idempotency key made) and, when new: queue it, or without a
    queue run it here and now. The job as it stands afterwards, and whether it is new."""
    async with app.sessions() as session, session.begin():
        job, new = await store.create(
            session,
            company_id=submission.company_id,
            kind=submission.kind,
            arguments=submission.arguments,
            key=submission.key,
            requested_by=submission.requested_by,
        )
        await session.flush()
        if new and app.settings.jobs.queue == "postgresql":
            await store.defer(session, job.id)
    if not new or app.settings.jobs.queue == "postgresql":
        return job, new
    status = await execute(app, handlers, job.id, max_attempts=1)
    async with app.sessions() as session:
        job = await session.get_one(Job, job.id)
    if status == "failed":
        raise JobFailed(job.error or "the job failed")
    return job, new


async def retry(session: AsyncSession, job: Job, *, queued: bool) -> None:
    """Run a failed or dead job again from its checkpoint (queued: on the queue, in this transaction)."""
    if job.status not in ("failed", "dead"):
        raise OutlayError(f"job {job.id} is {job.status}: only a failed or dead job is retried")
    store.requeue(job)
    if queued:
        await store.defer(session, job.id)

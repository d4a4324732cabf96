"""`outlay worker`: procrastinate on the PostgreSQL database, running jobs with the handlers the
composition root gives it.

- Retries: a failed attempt goes back to the queue after procrastinate's exponential backoff
  (OUTLAY_JOBS__BACKOFF_SECONDS ** (n + 1) s) until OUTLAY_JOBS__MAX_ATTEMPTS; then the job is dead.
- A worker killed outright (SIGKILL, a lost node) stops its heartbeat; every worker looks for jobs of
  workers silent for OUTLAY_JOBS__STALLED_SECONDS and puts them back on the queue, where another picks
  them up. An advisory lock on the job keeps a job from running twice at once even so.
- Nightly, each company gets the jobs of the `nightly` kinds (the forecasts snapshot), once per day.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Sequence
from typing import Any

import procrastinate
from sqlalchemy import select, text

from server.context import AppContext
from server.db.engine import libpq_url
from server.db.models import Company
from server.jobs import store
from server.jobs.runner import Handlers, Submission, execute, submit

log = logging.getLogger("outlay.jobs")

_LOCK_CLASS = 7019  # advisory locks (classid, job id) of running jobs
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:class, CAST(:job AS integer))")


class JobBusy(RuntimeError):
    """Another live worker holds the job: this attempt steps back (the queue tries again later)."""


def queue_app(app: AppContext, handlers: Handlers, nightly: Sequence[str] = ()) -> procrastinate.App:
    """The procrastinate app of a worker: one task runs any job by id; one periodic task starts the
    nightly jobs of every company."""
    settings = app.settings.jobs
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(app.settings.database_url))
    queue = procrastinate.App(connector=connector)
    # procrastinate gives up later than the job row does: the row's attempts (which also count attempts
    # a dead worker left unfinished) decide when a job is dead.
    retry = procrastinate.RetryStrategy(
        max_attempts=settings.max_attempts + 2, exponential_wait=settings.backoff_seconds
    )

    @queue.task(name=store.TASK, queue=store.QUEUE, retry=retry)
    async def run_job(job_id: int) -> None:
        await _run_locked(app, handlers, job_id)

    @queue.periodic(cron=settings.forecast_cron, periodic_id="nightly")
    @queue.task(name="outlay.nightly", queue=store.QUEUE)
    async def nightly_jobs(timestamp: int) -> None:
        day = dt.datetime.fromtimestamp(timestamp, dt.UTC).date()
        await start_nightly(app, handlers, nightly, day)

    del run_job, nightly_jobs  # registered on the app
    return queue


async def _run_locked(app: AppContext, handlers: Handlers, job_id: int) -> None:
    async with app.engine.connect() as connection:
        if not await connection.scalar(_TRY_LOCK, {"class": _LOCK_CLASS, "job": job_id}):
            raise JobBusy(f"job {job_id} is running on another worker")
        try:
            await execute(app, handlers, job_id, max_attempts=app.settings.jobs.max_attempts)
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock_all()"))
            await connection.commit()


async def start_nightly(app: AppContext, handlers: Handlers, kinds: Sequence[str], day: dt.date) -> int:
    """Queue each nightly kind for every company, once per day (the day is the idempotency key)."""
    async with app.sessions() as session:
        companies = list((await session.scalars(select(Company.id).order_by(Company.id))).all())
    for company_id in companies:
        for kind in kinds:
            submission = Submission(company_id, kind, {"as_of": day.isoformat()}, "nightly", f"nightly-{day}")
            await submit(app, handlers, submission)
    return len(companies) * len(kinds)


async def run_worker(queue: procrastinate.App, app: AppContext, *, name: str | None = None) -> None:
    """Run jobs until SIGTERM/SIGINT (a running job may finish within procrastinate's grace)."""
    settings = app.settings.jobs
    async with queue.open_async():
        rescue = asyncio.create_task(
            _rescue_stalled(queue, settings.stalled_seconds, settings.heartbeat_seconds)
        )
        try:
            await queue.run_worker_async(
                queues=[store.QUEUE],
                name=name or f"outlay-worker-{os.getpid()}",
                concurrency=settings.concurrency,
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_seconds,
                shutdown_graceful_timeout=app.settings.shutdown_grace_seconds,
            )
        finally:
            rescue.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rescue


async def _rescue_stalled(queue: procrastinate.App, stalled_seconds: float, every: float) -> None:
    """Put the jobs of dead workers back on the queue, every `every` seconds."""
    while True:
        try:
            for job in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
                with contextlib.suppress(Exception):  # another worker rescued it first
                    await queue.job_manager.retry_job(job)
                    log.warning("job of a dead worker queued again", extra=_about(job))
        except Exception:  # the database away for a moment: try again next round
            log.exception("could not look for the jobs of dead workers")
        await asyncio.sleep(every)


def _about(job: Any) -> dict[str, Any]:
    return {"queue_job": job.id, "args": job.task_kwargs}

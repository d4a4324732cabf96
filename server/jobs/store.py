"""The `jobs` table: create (once per idempotency key), read within a company, and hand to the queue.

On PostgreSQL a job reaches procrastinate through its own SQL function in the same transaction as the
row (`procrastinate_defer_jobs_v1`): a job is queued exactly when its row is committed, and the server
needs no second driver or pool for it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Job, utcnow

QUEUE, TASK = "outlay", "outlay.run_job"
FINISHED = frozenset({"succeeded", "failed", "dead"})
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL,"
    " CAST(:args AS jsonb), CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1]))"
)


async def create(
    session: AsyncSession,
    *,
    company_id: int,
    kind: str,
    arguments: dict[str, Any],
    key: str | None,
    requested_by: str,
) -> tuple[Job, bool]:
    """The job, and whether it is new: with a key already used for this company and kind, the job that
    key made (whatever its arguments), so that asking twice starts the work once."""
    if key is not None and (found := await by_key(session, company_id, kind, key)) is not None:
        return found, False
    job = Job(
        company_id=company_id,
        kind=kind,
        arguments=arguments,
        idempotency_key=key,
        status="queued",
        attempts=0,
        progress_done=0,
        requested_by=requested_by,
    )
    try:
        async with session.begin_nested():
            session.add(job)
    except IntegrityError:  # the same key, committed by someone else since we looked
        found = await by_key(session, company_id, kind, key or "")
        assert found is not None
        return found, False
    return job, True


async def by_key(session: AsyncSession, company_id: int, kind: str, key: str) -> Job | None:
    query = select(Job).where(Job.company_id == company_id, Job.kind == kind, Job.idempotency_key == key)
    return (await session.scalars(query)).one_or_none()


async def defer(session: AsyncSession, job_id: int, *, at: dt.datetime | None = None) -> int:
    """Queue the job for `outlay worker` (PostgreSQL only); procrastinate's id for it."""
    args = json.dumps({"job_id": job_id})
    found = await session.scalar(_DEFER, {"queue": QUEUE, "task": TASK, "args": args, "at": at})
    return int(found)


async def of_company(session: AsyncSession, company_id: int, job_id: int) -> Job | None:
    query = select(Job).where(Job.company_id == company_id, Job.id == job_id)
    return (await session.scalars(query)).one_or_none()


async def listing(
    session: AsyncSession, *, company_id: int | None, statuses: Sequence[str] = (), limit: int = 50
) -> list[Job]:
    """The newest jobs first, of one company (None: every company; operators only)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if company_id is not None:
        query = query.where(Job.company_id == company_id)
    if statuses:
        query = query.where(Job.status.in_(statuses))
    return list((await session.scalars(query)).all())


def requeue(job: Job) -> None:
    """A dead or failed job, asked for again: from its last checkpoint, with its attempts anew."""
    job.status, job.attempts, job.error, job.finished_at = "queued", 0, None, None


def finish(job: Job, status: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    job.status, job.result, job.error, job.finished_at = status, result, error, utcnow()

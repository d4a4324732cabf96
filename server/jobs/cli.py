"""`outlay worker` and `outlay jobs list|retry` (docs/jobs.md). The composition root hands over the job
handlers (capability code) through `handlers`, imported only when a command needs them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from server.context import AppContext
    from server.db.models import Job
    from server.jobs.runner import Handlers

HandlerFactory = Callable[[], "tuple[Handlers, tuple[str, ...]]"]  # handlers, and the nightly kinds
STATUSES = ("queued", "running", "succeeded", "failed", "dead")


def add_worker_arguments(parser: argparse.ArgumentParser, handlers: HandlerFactory) -> None:
    parser.add_argument("--name", help="this worker's name in the queue (default: procrastinate's)")
    parser.add_argument("--concurrency", type=int, help="jobs at once (default OUTLAY_JOBS__CONCURRENCY)")
    parser.set_defaults(command=lambda settings, args: cmd_worker(settings, args, handlers))


def add_jobs_arguments(parser: argparse.ArgumentParser, handlers: HandlerFactory) -> None:
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="jobs, newest first (--dead: the dead-letter view)")
    listing.add_argument("--company", help="company slug (default: every company)")
    listing.add_argument("--dead", action="store_true", help="only jobs that ran out of attempts")
    listing.add_argument("--status", choices=STATUSES, action="append", help="only these statuses")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON array")
    listing.set_defaults(command=cmd_jobs_list)
    retry = actions.add_parser("retry", help="run a dead or failed job again, from its checkpoint")
    retry.add_argument("job_id", type=int)
    retry.add_argument("--company", help="company slug: refuse a job of another company")
    retry.set_defaults(command=lambda settings, args: cmd_jobs_retry(settings, args, handlers))


def _fail(message: str) -> int:
    print(f"outlay: {message}", file=sys.stderr)
    return 1


def cmd_worker(settings: Settings, args: argparse.Namespace, handlers: HandlerFactory) -> int:
    if settings.jobs.queue != "postgresql":
        return _fail(
            "no queue is configured (OUTLAY_JOBS__QUEUE=inline): jobs run inline in the command or call "
            "that starts them; set OUTLAY_JOBS__QUEUE=postgresql (and a PostgreSQL OUTLAY_DATABASE_URL)"
        )
    if args.concurrency:
        settings = settings.model_copy(
            update={"jobs": settings.jobs.model_copy(update={"concurrency": args.concurrency})}
        )
    with suppress(KeyboardInterrupt):
        asyncio.run(_work(settings, handlers, args.name))
    print("Worker stopped.", file=sys.stderr)
    return 0


async def _work(settings: Settings, handlers: HandlerFactory, name: str | None) -> None:
    from server.jobs.queue import queue_app, run_worker
    from server.runtime import Runtime

    found, nightly = handlers()
    async with Runtime(settings, local_company=None).open() as app:
        print(f"Worker running jobs of kinds {', '.join(sorted(found))}.", file=sys.stderr, flush=True)
        await run_worker(queue_app(app, found, nightly), app, name=name)


def cmd_jobs_list(settings: Settings, args: argparse.Namespace) -> int:
    from server.errors import OutlayError

    statuses = ["dead"] if args.dead else list(args.status or [])
    try:
        jobs = asyncio.run(_list(settings, args.company, statuses, args.limit))
    except OutlayError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([describe(job) for job in jobs], indent=2))
    elif not jobs:
        print("No jobs.", file=sys.stderr)
    else:
        print("\n".join(_line(job) for job in jobs))
    return 0


async def _list(settings: Settings, slug: str | None, statuses: list[str], limit: int) -> list[Job]:
    from server.companies.service import find
    from server.jobs import store

    async with _app(settings) as app, app.sessions() as session:
        company_id = None if slug is None else (await find(session, slug)).id
        return await store.listing(session, company_id=company_id, statuses=statuses, limit=limit)


def cmd_jobs_retry(settings: Settings, args: argparse.Namespace, handlers: HandlerFactory) -> int:
    from server.errors import OutlayError

    try:
        status = asyncio.run(_retry(settings, args.job_id, args.company, handlers))
    except OutlayError as exc:
        return _fail(str(exc))
    print(f"Job {args.job_id}: {status}.", file=sys.stderr)
    return 0


async def _retry(settings: Settings, job_id: int, slug: str | None, handlers: HandlerFactory) -> str:
    from server.companies.service import find
    from server.db.models import Job
    from server.errors import NotFound
    from server.jobs import runner

    queued = settings.jobs.queue == "postgresql"
    async with _app(settings) as app:
        async with app.sessions() as session, session.begin():
            job = await session.get(Job, job_id, with_for_update=True)
            if job is None or (slug is not None and job.company_id != (await find(session, slug)).id):
                raise NotFound(f"no job {job_id}" + (f" of {slug}" if slug else ""))
            await runner.retry(session, job, queued=queued)
        if queued:
            return "queued again"
        status = await runner.execute(app, handlers()[0], job_id, max_attempts=1)
        return f"ran again inline: {status}"


def _app(settings: Settings) -> AbstractAsyncContextManager[AppContext]:
    from server.runtime import Runtime

    return Runtime(settings, local_company=None).open()


def describe(job: Job) -> dict[str, object]:
    """A job as `outlay jobs list --json` shows it (get_job shows `schemas.view`)."""
    return {
        "id": job.id,
        "company_id": job.company_id,
        "kind": job.kind,
        "status": job.status,
        "attempts": job.attempts,
        "progress": {"done": job.progress_done, "total": job.progress_total, "message": job.progress_message},
        "arguments": job.arguments,
        "idempotency_key": job.idempotency_key,
        "result": job.result,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _line(job: Job) -> str:
    total = f"/{job.progress_total}" if job.progress_total is not None else ""
    error = f"  {job.error[:80]}" if job.error else ""
    return (
        f"{job.id:>6}  company {job.company_id:<4} {job.kind:<20} {job.status:<9} "
        f"attempts {job.attempts}  {job.progress_done}{total}  {job.created_at:%Y-%m-%d %H:%M}{error}"
    )

"""Large imports as jobs (docs/jobs.md): the command checks the files, then stages them; a worker runs
the import from them with the inline path's own code, in one transaction with the job's success.

- `stage` (the command, after a dry run found no problem): in one transaction the job, owned by the
  company (a new company gets its row here, empty, which the import fills), the files' bytes compressed
  in `job_files` (the worker may run on another machine), and the job on the queue.
- `import_files` (the worker): the files back into a temporary folder, `import_company` or
  `import_export` on it, and with the import's writes the job's success, its files' removal and, when
  asked, the categorizer's first training queued. An attempt killed on the way leaves nothing written.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.context import AppContext
from server.db.models import Company, Job, JobFile
from server.importer.problems import FILES
from server.importer.service import ImportReport, Staged, import_company, import_export
from server.jobs import store
from server.jobs.runner import JobRun
from server.progress import Progress, progress

IMPORT = "import_company"
# The files of an import folder (docs/data-format.md); anything else in the folder stays behind.
FOLDER_FILES = (*FILES, "category_rules.csv")
PROGRESS_SECONDS = 1.0  # how often a running import writes how far it got to its job


@dataclass(frozen=True)
class Request:
    """A checked import to queue: its files (name in the staged folder, path on this disk) and how."""

    files: dict[str, Path]
    slug: str
    currency: str
    arguments: dict[str, Any]  # replace, append, source, export, mapping, company, strict, then


def folder_files(folder: Path) -> dict[str, Path]:
    return {name: folder / name for name in FOLDER_FILES if (folder / name).is_file()}


def export_files(export: Path, mapping: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """The export and its mapping, under names that cannot clash, and those names for the job."""
    mapping_name = mapping.name if mapping.name != export.name else f"mapping-{mapping.name}"
    return {export.name: export, mapping_name: mapping}, {"export": export.name, "mapping": mapping_name}


async def stage(app: AppContext, request: Request) -> tuple[int, int]:
    """Queue the import; the job's id and the compressed bytes staged. Raises LookupError when a new
    company's slug was taken since the check."""
    contents = await asyncio.to_thread(_compressed, request.files)
    async with app.sessions() as session, session.begin():
        company_id, made = await _owner(session, request)
        arguments = request.arguments | {"made": made}
        job, _ = await store.create(
            session, company_id=company_id, kind=IMPORT, arguments=arguments, key=None, requested_by="cli"
        )
        await session.flush()
        for name, (size, content) in contents.items():
            session.add(JobFile(company_id=company_id, job_id=job.id, name=name, size=size, content=content))
        await store.defer(session, job.id)
    return job.id, sum(len(content) for _, content in contents.values())


def _compressed(files: dict[str, Path]) -> dict[str, tuple[int, bytes]]:
    found = {}
    for name, path in files.items():
        data = path.read_bytes()
        found[name] = (len(data), zlib.compress(data, 1))  # level 1: 23% of a CSV, 9x faster than 6 (19%)
    return found


async def _owner(session: AsyncSession, request: Request) -> tuple[int, int | None]:
    """The company the job belongs to, and whether it was made here: a new company's row is made now,
    empty (its slug, name and currency; the import writes the rest), so that the job has an owner."""
    query = select(Company.id).where(Company.slug == request.slug).with_for_update()
    if (found := await session.scalar(query)) is not None:
        return int(found), None
    company = Company(slug=request.slug, name=request.slug, currency=request.currency)
    try:
        async with session.begin_nested():
            session.add(company)
    except IntegrityError as exc:  # the slug, made by another import since the check
        raise LookupError(f"company {request.slug!r} was created meanwhile; use --replace") from exc
    return company.id, company.id


async def import_files(run: JobRun) -> None:
    """The worker's side: the staged files imported by the inline path's code, in one transaction."""
    arguments = run.arguments
    staged = Staged(run.job_id, arguments.get("made"), arguments["source"], _finisher(run))
    with tempfile.TemporaryDirectory(prefix=f"outlay-import-{run.job_id}-") as tmp:
        folder = Path(tmp)
        total = await _unstage(run, folder)
        options = {"replace": arguments["replace"], "append": arguments["append"], "actor": "cli"}
        with progress("import: expenses written", total=total) as bar, _reporting(run, bar):
            if arguments.get("export"):
                await import_export(
                    run.app.sessions, folder / arguments["export"], folder / arguments["mapping"],
                    company=arguments.get("company"), strict=arguments.get("strict", False),
                    staged=staged, **options,
                )  # fmt: skip
            else:
                await import_company(run.app.sessions, folder, staged=staged, **options)


async def _unstage(run: JobRun, folder: Path) -> int | None:
    """Write the job's files into `folder`; the expense rows, near enough, for progress."""
    async with run.app.sessions() as session:
        rows = (
            await session.execute(select(JobFile.name, JobFile.content).where(JobFile.job_id == run.job_id))
        ).all()
    if not rows:
        raise LookupError(f"job {run.job_id} has no files staged (already imported, or removed)")
    for name, content in rows:  # decompressed off the event loop: the progress task keeps reporting
        await asyncio.to_thread(_decompress_to, folder / name, content)
    expenses = folder / (run.arguments.get("export") or "expenses.csv")
    with expenses.open("rb") as lines:
        return max(0, sum(1 for _ in lines) - 1)


def _decompress_to(path: Path, content: bytes) -> None:
    path.write_bytes(zlib.decompress(content))


def _finisher(run: JobRun) -> Callable[[AsyncSession, ImportReport], Awaitable[None]]:
    async def finish(session: AsyncSession, report: ImportReport) -> None:
        await session.execute(delete(JobFile).where(JobFile.job_id == run.job_id))
        result: dict[str, Any] = {"company": report.company_slug, **report.counts}
        result |= {"replaced": report.replaced, "appended": report.appended}
        if then := run.arguments.get("then"):
            result["then"] = await _queue_next(session, run, report, then)
        await run.checkpoint_in(session, None, report.expenses, report.expenses, "imported")
        await run.succeed_in(session, result)

    return finish


async def _queue_next(session: AsyncSession, run: JobRun, report: ImportReport, kind: str) -> int:
    """The job that follows the import (the first training), queued in the import's transaction."""
    company_id = await session.scalar(select(Company.id).where(Company.slug == report.company_slug))
    assert company_id is not None
    job, new = await store.create(
        session, company_id=company_id, kind=kind, arguments={"serve": True},
        key=f"after-import-{run.job_id}", requested_by=run.actor,
    )  # fmt: skip
    await session.flush()
    if new:
        await store.defer(session, job.id)
    return job.id


@contextlib.contextmanager
def _reporting(run: JobRun, bar: Progress) -> Iterator[None]:
    """While the import runs: the rows written so far, into the job's progress every second."""

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            with contextlib.suppress(Exception):  # progress is a courtesy: never the import's failure
                await _progress(run, bar.done, bar.total)

    task = asyncio.get_running_loop().create_task(report())
    try:
        yield
    finally:
        task.cancel()


async def _progress(run: JobRun, done: int, total: int | None) -> None:
    """How far the import got, on the job while it is running: an update that waited for the import's
    own commit (which also writes the job) then finds the job succeeded and leaves it alone."""
    message = f"{done} expenses written"
    query = update(Job).where(Job.id == run.job_id, Job.status == "running")
    async with run.app.sessions() as session, session.begin():
        await session.execute(
            query.values(progress_done=done, progress_total=total, progress_message=message)
        )


HANDLERS = {IMPORT: import_files}

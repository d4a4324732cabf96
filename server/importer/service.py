"""`import_company`: read and check a folder, then write it in one transaction (all or nothing)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit import changes
from server.db.models import Category, Company, Team, utcnow
from server.importer.append import append_dataset, new_rows
from server.importer.dataset import Dataset, Reading, read_folder
from server.importer.flat import Existing, read_export
from server.importer.mapping import read_mapping
from server.importer.problems import ImportFailed, Problem, Problems
from server.importer.store import ExpenseRow
from server.importer.writer import Counts, delete_company_data, write_company, write_dataset

# Every table an import writes, the small ones too: without statistics the planner takes the row-security
# filter on employees, teams and merchants for 0.5% of their rows and joins a company's 1.7 M expenses to
# them in nested loops (a first page of search_expenses: 12.5 s instead of 3 ms; autovacuum may be off).
ANALYZED = (
    "expenses",
    "expense_dimensions",
    "spend_monthly",
    "merchant_monthly",
    "employee_monthly",
    "team_daily_spend",
    "repeat_charges",
    "approval_requests",
    "approval_decisions",
    "employees",
    "teams",
    "merchants",
    "categories",
    "category_rules",
    "budgets",
    "fx_rates",
    "approval_policies",
    "expense_policies",
    "companies",
)


PREVIEW = 10  # rows a dry run shows as they would be stored


@dataclass(frozen=True)
class ImportReport:
    company_slug: str
    teams: int
    employees: int
    categories: int
    merchants: int
    expenses: int
    budgets: int
    approval_requests: int
    approval_decisions: int
    replaced: bool  # True when an existing company of that slug was replaced
    fx_rates: int = 0
    category_rules: int = 0
    expense_dimensions: int = 0
    appended: bool = False  # added to an existing company (--append); the counts are what was added
    expenses_there: int = 0  # appending: expenses of the file the company had already
    requests_there: int = 0  # appending: approval requests of the file the company had already
    skipped: dict[str, int] = field(default_factory=dict)  # rows left out, by currency without a rate
    dry_run: bool = False  # nothing was written; the counts are what would have been
    preview: tuple[ExpenseRow, ...] = ()  # a dry run's first rows, as they would be stored
    currency: str = ""  # a dry run's company currency, to show settled amounts in

    @property
    def counts(self) -> dict[str, int]:
        """Rows written per table."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Counts)}


@dataclass(frozen=True)
class Staged:
    """An import a worker runs for a job (server/importer/jobs.py), from the files the command staged."""

    job_id: int  # its row (and files) survive the --replace that deletes the company's other jobs
    made: int | None  # the empty company row the command made for a new company: this import fills it
    source: str  # the folder or export as the command named it, for the audit entry
    # What commits with the import, in its transaction: the job's success, its files' removal.
    finish: Callable[[AsyncSession, ImportReport], Awaitable[None]]


@dataclass(frozen=True)
class Options:
    """How to load: replace an existing company, append to it, or only check (dry run)."""

    replace: bool = False
    append: bool = False
    dry_run: bool = False
    actor: str = "cli"
    staged: Staged | None = None


async def import_company(
    sessions: async_sessionmaker[AsyncSession],
    folder: Path,
    *,
    replace: bool = False,
    append: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
    staged: Staged | None = None,
) -> ImportReport:
    """Import the company in `folder` (docs/data-format.md). Raises `ImportFailed` with every problem
    found, having written nothing; with `replace`, an existing company of the same slug is replaced
    (its rows deleted and the folder's inserted, in the same transaction); with `append`, the folder's
    new expenses, requests and decisions are added to it (server/importer/append.py). `staged`: a
    worker's run of a queued import."""
    problems = Problems()
    # Reading is CPU-bound (seconds for a large company): keep the event loop responsive meanwhile.
    reading = await asyncio.to_thread(read_folder, folder, problems)
    options = Options(replace, append, dry_run, actor, staged)
    source = staged.source if staged else str(folder)
    where = Where(source, "company.csv", reading.company.line, "slug", "expenses.csv")
    return await _load(sessions, reading, problems, options, where)


async def import_export(
    sessions: async_sessionmaker[AsyncSession],
    export: Path,
    mapping: Path,
    *,
    company: str | None = None,
    strict: bool = False,
    replace: bool = False,
    append: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
    staged: Staged | None = None,
) -> ImportReport:
    """Import one flat export (a card statement) through a mapping file (server/importer/mapping.py):
    a new company (`company` or the mapping's slug), a replacement, or an append to an existing one."""
    problems = Problems()
    spec = read_mapping(mapping, problems)
    slug = company or (spec.company.slug if spec else None)
    existing = await _existing_of(sessions, slug) if append and slug else None
    if append and spec is not None and existing is None:
        missing = f"no company {slug!r} to append to; import it first" if slug else "pass --company SLUG"
        problems.add(mapping.name, 0, "company.slug", missing)
    if spec is None or problems:
        raise ImportFailed(problems)
    flat = await asyncio.to_thread(read_export, export, spec, mapping, problems, slug=slug,
                                   existing=existing, strict=strict)  # fmt: skip
    options = Options(replace, append, dry_run, actor, staged)
    source = staged.source if staged else f"{export} through {mapping}"
    where = Where(source, mapping.name, 0, "company.slug", export.name)
    report = await _load(sessions, flat.reading, problems, options, where)
    return dataclasses.replace(report, skipped=dict(flat.skipped))


@dataclass(frozen=True)
class Where:
    """What the import reads, and where its slug comes from, for the audit entry and problems."""

    source: str
    slug_file: str
    slug_line: int
    slug_column: str
    expenses_file: str


async def _load(
    sessions: async_sessionmaker[AsyncSession],
    reading: Reading,
    problems: Problems,
    options: Options,
    where: Where,
) -> ImportReport:
    try:
        return await _checked_load(sessions, reading, problems, options, where)
    finally:
        if reading.dataset is not None:
            reading.dataset.expenses.rows.close()
            reading.dataset.expenses.refs.clear()


async def _checked_load(
    sessions: async_sessionmaker[AsyncSession],
    reading: Reading,
    problems: Problems,
    options: Options,
    where: Where,
) -> ImportReport:
    async with sessions() as session, session.begin():
        existing = None
        if reading.company.slug is not None:
            existing = await _existing_company(session, reading.company.slug)
            allowed = options.replace or options.append or _made(options, existing)
            if existing is not None and not allowed:
                problems.add(
                    where.slug_file, where.slug_line, where.slug_column, _exists(reading.company.slug)
                )
            if existing is None and options.append:
                message = f"no company {reading.company.slug!r} to append to; import it first"
                problems.add(where.slug_file, where.slug_line, where.slug_column, message)
        if problems or reading.dataset is None:
            raise ImportFailed(problems)
        if options.append and existing is not None:
            report = await _append(session, reading.dataset, existing, options, where)
        elif options.dry_run:
            return _preview(reading.dataset, replaced=existing is not None)
        else:
            report = await _write(session, reading.dataset, existing, options, where.source)
        if options.dry_run:
            await session.rollback()  # nothing of a dry run is kept (appending only read so far)
            return report
        if options.staged is not None:
            await options.staged.finish(session, report)
    if report.expenses or report.approval_requests or not report.appended:
        await _refresh_statistics(sessions)
    return report


def _preview(data: Dataset, *, replaced: bool, **appended: Any) -> ImportReport:
    """What an import of `data` would write, without writing it."""
    counts = Counts.of(data)
    return ImportReport(
        data.company.slug, **dataclasses.asdict(counts), replaced=replaced, dry_run=True,
        preview=tuple(data.expenses.rows.head[:PREVIEW]), currency=data.company.currency, **appended,
    )  # fmt: skip


async def _append(
    session: AsyncSession, data: Dataset, company_id: int, options: Options, where: Where
) -> ImportReport:
    found = await new_rows(session, data, company_id, where.expenses_file)
    there = {"expenses_there": found.expenses_there, "requests_there": found.requests_there}
    if options.dry_run:
        return _preview(found.data, replaced=False, appended=True, **there)
    counts = await append_dataset(session, found.data, company_id, utcnow())
    report = ImportReport(
        data.company.slug,
        **dataclasses.asdict(counts),
        replaced=False,
        appended=True,
        expenses_there=found.expenses_there,
        requests_there=found.requests_there,
    )
    details = {"source": where.source, "appended": True, "counts": report.counts, **there}
    await changes.record(session, company_id, actor=options.actor, action="import", details=[details])
    return report


async def _existing_of(sessions: async_sessionmaker[AsyncSession], slug: str) -> Existing | None:
    """What a flat export appended to company `slug` reuses: its currency, team and category names."""
    async with sessions() as session:
        company = (await session.execute(select(Company).where(Company.slug == slug))).scalar_one_or_none()
        if company is None:
            return None
        teams = (await session.scalars(select(Team.name).where(Team.company_id == company.id))).all()
        query = select(Category.name, Category.code).where(Category.company_id == company.id)
        categories = {name: code for name, code in await session.execute(query)}
    return Existing(slug, company.currency, list(teams), categories, set(categories.values()))


async def _refresh_statistics(sessions: async_sessionmaker[AsyncSession]) -> None:
    """PostgreSQL plans from table statistics; right after a bulk load they still describe the tables
    before it (a 1.7 M row company planned as if it had none), until autovacuum gets round to them.
    SQLite has none until asked: without them it reads a company's expense dimensions through the
    (company, name, value) index rather than by expense (72 ms instead of 0.1 ms for four expenses)."""
    async with sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        await session.execute(text(f"ANALYZE {', '.join(ANALYZED)}" if postgres else "ANALYZE"))
        await session.commit()


async def _existing_company(session: AsyncSession, slug: str) -> int | None:
    # FOR UPDATE (PostgreSQL): a concurrent import of the same slug waits for this one.
    query = select(Company.id).where(Company.slug == slug).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def _exists(slug: str) -> str:
    return f"company {slug!r} already exists; use --replace to replace it"


def _made(options: Options, existing: int | None) -> bool:
    """Whether `existing` is the empty company the command made for this queued import of a new one."""
    return options.staged is not None and existing is not None and options.staged.made == existing


async def _write(
    session: AsyncSession, data: Dataset, existing: int | None, options: Options, source: str
) -> ImportReport:
    now = utcnow()
    data.expenses.refs.clear()  # checked: a million ids' memory is the writer's now
    if existing is not None:  # replaced, or the row made for a queued new company: emptied either way
        keep = options.staged.job_id if options.staged else None
        await delete_company_data(session, existing, keep_job=keep)
    try:
        company_id = await write_company(session, data, existing)
    except IntegrityError:  # another import created the slug since we looked
        raise ImportFailed(
            [Problem("company.csv", data.company.line, "slug", _exists(data.company.slug))]
        ) from None
    counts = await write_dataset(session, data, company_id, now)
    replaced = existing is not None and not _made(options, existing)
    report = ImportReport(data.company.slug, **dataclasses.asdict(counts), replaced=replaced)
    details = {"source": source, "replaced": report.replaced, "counts": report.counts}
    await changes.record(session, company_id, actor=options.actor, action="import", details=[details])
    return report

"""`import_company`: read and check a folder, then write it in one transaction (all or nothing)."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit import changes
from server.db.models import Company, utcnow
from server.importer.dataset import Dataset, read_folder
from server.importer.problems import ImportFailed, Problem, Problems
from server.importer.writer import Counts, delete_company_data, write_company, write_dataset

# Every table an import writes, the small ones too: without statistics the planner takes the row-security
# filter on employees, teams and merchants for 0.5% of their rows and joins a company's 1.7 M expenses to
# them in nested loops (a first page of search_expenses: 12.5 s instead of 3 ms; autovacuum may be off).
ANALYZED = (
    "expenses",
    "expense_dimensions",
    "spend_monthly",
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
    "companies",
)


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

    @property
    def counts(self) -> dict[str, int]:
        """Rows written per table."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Counts)}


async def import_company(
    sessions: async_sessionmaker[AsyncSession], folder: Path, *, replace: bool = False, actor: str = "cli"
) -> ImportReport:
    """Import the company in `folder` (docs/data-format.md). Raises `ImportFailed` with every problem
    found, having written nothing; with `replace`, an existing company of the same slug is replaced
    (its rows deleted and the folder's inserted, in the same transaction)."""
    problems = Problems()
    # Reading is CPU-bound (seconds for a large company): keep the event loop responsive meanwhile.
    reading = await asyncio.to_thread(read_folder, folder, problems)
    async with sessions() as session, session.begin():
        existing = None
        if reading.company.slug is not None:
            existing = await _existing_company(session, reading.company.slug)
            if existing is not None and not replace:
                problems.add("company.csv", reading.company.line, "slug", _exists(reading.company.slug))
        if problems or reading.dataset is None:
            raise ImportFailed(problems)
        report = await _write(session, reading.dataset, existing, actor, str(folder))
    await _refresh_statistics(sessions)
    return report


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


async def _write(
    session: AsyncSession, data: Dataset, existing: int | None, actor: str, source: str
) -> ImportReport:
    now = utcnow()
    if existing is not None:
        await delete_company_data(session, existing)
    try:
        company_id = await write_company(session, data, existing)
    except IntegrityError:  # another import created the slug since we looked
        raise ImportFailed(
            [Problem("company.csv", data.company.line, "slug", _exists(data.company.slug))]
        ) from None
    counts = await write_dataset(session, data, company_id, now)
    report = ImportReport(data.company.slug, **dataclasses.asdict(counts), replaced=existing is not None)
    details = {"source": source, "replaced": report.replaced, "counts": report.counts}
    await changes.record(session, company_id, actor=actor, action="import", details=[details])
    return report

"""What `outlay company list` shows and what `outlay company remove` deletes, in the caller's session.

A removal deletes every tenant row of one company (every table with a `company_id`, children before
parents, read from the models' metadata so that a table added later is removed too) and the company
itself, in the caller's transaction, and records it in `data_changes`. The record of the company's
earlier changes stays, as the trail of calls (`audit_events`, which names companies by slug) does:
what happened to a company's books outlives the books.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import changes
from server.db.models import Base, Company, Expense, ModelVersion
from server.errors import NotFound

CATEGORIZER = "categorizer"  # the model kind whose serving version the list shows
KEPT = frozenset({"data_changes"})  # tenant tables a removal leaves: the record of changes


@dataclass(frozen=True)
class CompanyLine:
    slug: str
    name: str
    currency: str
    expenses: int
    first_expense: dt.date | None
    last_expense: dt.date | None
    model_version: int | None  # the categorizer version serving, if any


async def list_companies(session: AsyncSession) -> list[CompanyLine]:
    spend = (
        select(
            Expense.company_id,
            func.count().label("expenses"),
            func.min(Expense.spent_on).label("first"),
            func.max(Expense.spent_on).label("last"),
        )
        .group_by(Expense.company_id)
        .subquery()
    )
    serving = (
        select(ModelVersion.company_id, func.max(ModelVersion.version).label("version"))
        .where(ModelVersion.kind == CATEGORIZER, ModelVersion.serving.is_(True))
        .group_by(ModelVersion.company_id)
        .subquery()
    )
    query = (
        select(Company, spend.c.expenses, spend.c.first, spend.c.last, serving.c.version)
        .outerjoin(spend, spend.c.company_id == Company.id)
        .outerjoin(serving, serving.c.company_id == Company.id)
        .order_by(Company.slug)
    )
    return [
        CompanyLine(c.slug, c.name, c.currency, expenses or 0, first, last, version)
        for c, expenses, first, last, version in (await session.execute(query)).all()
    ]


async def find(session: AsyncSession, slug: str) -> Company:
    company = await session.scalar(select(Company).where(Company.slug == slug))
    if company is None:
        slugs = (await session.scalars(select(Company.slug).order_by(Company.slug))).all()
        loaded = f"the companies are: {', '.join(slugs)}" if slugs else "no company is loaded"
        raise NotFound(f"no company with slug {slug!r}; {loaded}")
    return company


def tenant_tables() -> list[Table]:
    """Every table holding a company's rows, children before parents."""
    return [
        table
        for table in reversed(Base.metadata.sorted_tables)
        if "company_id" in table.c and table.name not in KEPT
    ]


async def count_rows(session: AsyncSession, company_id: int) -> dict[str, int]:
    """The company's rows per table, the tables that hold none left out."""
    counts = {}
    for table in tenant_tables():
        found = await session.scalar(select(func.count()).where(table.c.company_id == company_id))
        if found:
            counts[table.name] = int(found)
    return counts


async def remove_company(session: AsyncSession, slug: str, *, actor: str) -> dict[str, int]:
    """Delete the company `slug` and every row of it (see the module's docstring); rows removed per table."""
    company = await find(session, slug)
    # teams.manager_id and employees.team_id reference each other: break the cycle first.
    teams = Base.metadata.tables["teams"]
    await session.execute(update(teams).where(teams.c.company_id == company.id).values(manager_id=None))
    removed = {}
    for table in tenant_tables():
        result = await session.execute(delete(table).where(table.c.company_id == company.id))
        if result.rowcount:  # type: ignore[attr-defined]
            removed[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
    details = {"company": slug, "name": company.name, "removed": removed}
    await session.execute(delete(Company).where(Company.id == company.id))
    removed["companies"] = 1
    await changes.record(session, None, actor=actor, action="remove_company", details=[details])
    return removed

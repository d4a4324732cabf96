"""Completion values for arguments that name the caller's own things: teams, employees, categories and
periods. Shared by the resource templates and the prompts, which each decide which lookup completes
which of their arguments; every lookup is filtered by the caller's company.

Values are what the argument accepts as is: a team's name, an employee's e-mail (names can repeat), a
category's code, a period label. The typed text matches any of a row's names, anywhere, any case;
rows whose name starts with it come first.

SQLAlchemy and the models are imported by the lookups themselves: this module loads at start-up (the
prompts' table of lookups), they with the first call (`server.context.Database`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mcp_types import Completion

from server.calls import completion_call
from server.kit.periods import months_in, period_label

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import InstrumentedAttribute

MAX_VALUES = 20  # the most a completion may return (MCP)

# (session, company id, typed text) → matching values, best first; more than MAX_VALUES means "more".
Lookup = Callable[["AsyncSession", int, str], Awaitable[list[str]]]


async def complete(lookup: Lookup, text: str, *, argument: str) -> Completion:
    """The completion of one argument for the identified caller (logged under `argument`)."""
    async with completion_call(argument) as call:
        values = await lookup(call.session, call.caller.company_id, text.strip())
    return completion(values)


def completion(values: list[str]) -> Completion:
    more = len(values) > MAX_VALUES
    return Completion(values=values[:MAX_VALUES], has_more=more, total=None if more else len(values))


async def teams(session: AsyncSession, company_id: int, text: str) -> list[str]:
    from server.db.models import Team

    return await _named(session, Team.name, (Team.name,), Team.company_id == company_id, text)


async def employees(session: AsyncSession, company_id: int, text: str) -> list[str]:
    """Active employees, by e-mail: whom a request can come from."""
    from server.db.models import Employee

    where = (Employee.company_id == company_id) & Employee.active.is_(True)
    return await _named(session, Employee.email, (Employee.name, Employee.email), where, text)


async def categories(session: AsyncSession, company_id: int, text: str) -> list[str]:
    from server.db.models import Category

    return await _named(
        session, Category.code, (Category.code, Category.name), Category.company_id == company_id, text
    )


async def budget_periods(session: AsyncSession, company_id: int, text: str) -> list[str]:
    """The periods the company has budgets for, as labels, in label order."""
    from sqlalchemy import select

    from server.db.models import Budget

    query = select(Budget.period_start, Budget.period_end).where(Budget.company_id == company_id).distinct()
    labels = sorted({period_label(start, end) for start, end in (await session.execute(query)).all()})
    return _starting_with(labels, text)


async def spend_periods(session: AsyncSession, company_id: int, text: str) -> list[str]:
    """Every year, quarter and month with spend, newest first, each year before its quarters and each
    quarter before its months: 2026, 2026-Q4, 2026-11, 2026-10, 2026-Q3, 2026-09, ..."""
    labels: list[str] = []
    for year, month in reversed(await _spend_months(session, company_id)):
        newest = not labels
        if month == 12 or newest:
            labels.append(str(year))
        if month % 3 == 0 or newest:
            labels.append(f"{year}-Q{(month + 2) // 3}")
        labels.append(f"{year}-{month:02d}")
    return _starting_with(labels, text)


async def month_starts(session: AsyncSession, company_id: int, text: str) -> list[str]:
    """The first day of every month with spend, newest first: where a date range can start."""
    months = reversed(await _spend_months(session, company_id))
    return _starting_with([f"{year}-{month:02d}-01" for year, month in months], text)


async def _spend_months(session: AsyncSession, company_id: int) -> list[tuple[int, int]]:
    """Every (year, month) from the company's first expense to its last, oldest first."""
    from sqlalchemy import func, select

    from server.db.models import Expense

    query = select(func.min(Expense.spent_on), func.max(Expense.spent_on)).where(
        Expense.company_id == company_id
    )
    first, last = (await session.execute(query)).one()
    return [] if first is None else months_in(first, last)


async def _named(
    session: AsyncSession,
    value: InstrumentedAttribute[str],
    names: tuple[InstrumentedAttribute[str], ...],
    where: ColumnElement[bool],
    text: str,
) -> list[str]:
    from sqlalchemy import case, func, or_, select

    needle = text.lower()
    matches = or_(*(func.lower(name).contains(needle, autoescape=True) for name in names))
    later = case((or_(*(func.lower(name).startswith(needle, autoescape=True) for name in names)), 0), else_=1)
    query = select(value, later).where(where, matches).order_by(later, value).limit(MAX_VALUES + 1)
    rows = (await session.execute(query)).all()
    # Sorted again here: database collations order names differently.
    return [found for found, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


def _starting_with(labels: list[str], text: str) -> list[str]:
    return [label for label in labels if label.lower().startswith(text.lower())]

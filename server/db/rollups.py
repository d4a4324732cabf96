"""Derived tables the hot read paths use instead of scanning every expense: rebuilt for a company by each
import (the only writer of amounts, teams, merchants, employees and dates). Categorization changes none of
those, only the category spend_monthly splits by: categorize_expenses recounts the (team, month) slices it
touched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Date, and_, delete, func, insert, or_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from server.db.models import (
    EmployeeMonthly,
    Expense,
    MerchantMonthly,
    RepeatCharge,
    SpendMonthly,
    TeamDailySpend,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.compiler import SQLCompiler

# Amounts at one merchant within this ratio of each other may be one subscription (seat counts change).
REPEAT_SPREAD = 3


async def rebuild_spend_rollups(session: AsyncSession, company_id: int) -> None:
    for table in (TeamDailySpend, RepeatCharge, SpendMonthly, MerchantMonthly, EmployeeMonthly):
        await session.execute(delete(table).where(table.company_id == company_id))
    daily = (
        select(
            Expense.company_id,
            Expense.team_id,
            Expense.spent_on,
            func.sum(Expense.amount_company_minor),
            func.count(),
        )
        .where(Expense.company_id == company_id)
        .group_by(Expense.company_id, Expense.team_id, Expense.spent_on)
    )
    await session.execute(
        insert(TeamDailySpend).from_select(
            ["company_id", "team_id", "spent_on", "total_minor", "expenses"], daily
        )
    )
    for rollup, by in _MONTHLY:
        await session.execute(_insert_monthly(rollup, by, Expense.company_id == company_id))
    amount = Expense.amount_company_minor
    pairs = (
        select(Expense.team_id, Expense.merchant_id)
        .where(Expense.company_id == company_id)
        .group_by(Expense.team_id, Expense.merchant_id)
        .having(
            func.min(amount) > 0,
            or_(
                and_(func.count() >= 2, func.max(amount) <= REPEAT_SPREAD * func.min(amount)),
                func.count() == 1,  # a one-off, or a yearly licence charged once so far (renewal.py)
            ),
        )
        .subquery()
    )
    charges = (
        select(Expense.id, Expense.company_id, Expense.team_id, Expense.merchant_id, Expense.spent_on, amount)
        .join(pairs, and_(pairs.c.team_id == Expense.team_id, pairs.c.merchant_id == Expense.merchant_id))
        .where(Expense.company_id == company_id)
    )
    columns = ["expense_id", "company_id", "team_id", "merchant_id", "spent_on", "amount_minor"]
    await session.execute(insert(RepeatCharge).from_select(columns, charges))


class month_start(FunctionElement[dt.date]):  # lower case: used like a SQL function
    """The first day of the date's month, as a date, on both backends."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_postgresql(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS date)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


# Each monthly rollup and the expense columns it splits a company's months by (the rollup's columns of the
# same names). spend_monthly's (team, month) slices are recounted by categorizations too.
_SLICES_BY = (Expense.team_id, Expense.category_id)
_MONTHLY: tuple[tuple[Any, tuple[Any, ...]], ...] = (
    (SpendMonthly, _SLICES_BY),
    (MerchantMonthly, (Expense.merchant_id,)),
    (EmployeeMonthly, (Expense.employee_id,)),
)


def _insert_monthly(rollup: Any, by: tuple[Any, ...], *where: ColumnElement[bool]) -> Any:
    keys = (Expense.company_id, month_start(Expense.spent_on), *by)
    totals = select(*keys, func.sum(Expense.amount_company_minor), func.count()).where(*where).group_by(*keys)
    columns = ["company_id", "month", *(column.key for column in by), "total_minor", "expenses"]
    return insert(rollup).from_select(columns, totals)


Slice = tuple[int, dt.date]  # (team id, first day of the month)

# Serializes the recounts of one slice across transactions (PostgreSQL): two categorize calls that each
# counted the slice without the other's uncommitted rows would leave the last one's count. Locks taken
# in key order, so that two calls never wait for each other both ways.
_LOCK_SLICES = text(
    "SELECT COUNT(pg_advisory_xact_lock(key)) FROM"
    " (SELECT key FROM unnest(CAST(:keys AS bigint[])) AS key ORDER BY key) AS ordered"
)


async def recount_spend_monthly(session: AsyncSession, company_id: int, expense_ids: Sequence[int]) -> None:
    """Recount, from the expenses, the spend_monthly slices (team, month) these expenses are in: exact
    whatever an update actually changed, and under concurrent calls (each waits for the slice)."""
    month = month_start(Expense.spent_on)
    found = select(Expense.team_id, month).where(
        Expense.company_id == company_id, Expense.id.in_(expense_ids)
    )
    slices: list[Slice] = sorted(
        {(team, day) for team, day in (await session.execute(found.distinct())).all()}
    )
    if not slices:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One bigint per slice: the team id above the month's index (20 bits: years up to 87,000).
        keys = [team << 20 | day.year * 12 + day.month - 1 for team, day in slices]
        await session.execute(_LOCK_SLICES, {"keys": keys})
    rollup = or_(*(and_(SpendMonthly.team_id == t, SpendMonthly.month == m) for t, m in slices))
    await session.execute(delete(SpendMonthly).where(SpendMonthly.company_id == company_id, rollup))
    spent = or_(
        *(
            and_(Expense.team_id == t, Expense.spent_on >= m, Expense.spent_on < _next_month(m))
            for t, m in slices
        )
    )
    await session.execute(_insert_monthly(SpendMonthly, _SLICES_BY, Expense.company_id == company_id, spent))


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def monthly_slices(
    company_id: int,
    months: tuple[dt.date, dt.date],
    *,
    team_id: int | None = None,
    category_id: int | None = None,
    uncategorized: bool = False,
) -> list[ColumnElement[bool]]:
    """The spend_monthly rows of a company's whole months (first days, both inclusive), narrowed to a team,
    a category or the uncategorized row: what search_expenses counts (summarize_spend states the same
    slices once per shape, with bound values: tools/spend/queries.py)."""
    conditions = [SpendMonthly.company_id == company_id, SpendMonthly.month.between(*months)]
    if team_id is not None:
        conditions.append(SpendMonthly.team_id == team_id)
    if category_id is not None:
        conditions.append(SpendMonthly.category_id == category_id)
    if uncategorized:
        conditions.append(SpendMonthly.category_id.is_(None))
    return conditions

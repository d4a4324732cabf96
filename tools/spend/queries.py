"""SQL for summarize_spend: one GROUP BY per dimension, the same results on SQLite and PostgreSQL.

The whole months of a period come from a monthly rollup when one can answer: spend_monthly grouped by
category, team or month (no employee filter: it has no employees), merchant_monthly and employee_monthly
grouped by merchant or employee with no filter at all (they have neither teams nor categories). The days
at the period's edges, and every other question (cost centers, projects, free dimensions, a team's
merchants), come from the expenses. Both paths give the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Executable, Integer, bindparam, cast, extract, func, or_, select

from server.db.dimensions import dimension
from server.db.engine import plan_each_run
from server.db.models import (
    Category,
    Employee,
    EmployeeMonthly,
    Expense,
    Merchant,
    MerchantMonthly,
    SpendMonthly,
    Team,
)
from server.kit.periods import DateRange, split_period

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tools.spend.schemas import GroupBy


@dataclass(frozen=True)
class SpendScope:
    """Resolved filters: ids, never names."""

    company_id: int
    date_from: dt.date
    date_to: dt.date
    team_id: int | None = None
    category_id: int | None = None
    employee_id: int | None = None


@dataclass(frozen=True)
class GroupRow:
    key: str | None  # None: no category (cost center, project, dimension value)
    name: str | None
    total_minor: int
    count: int


# The groupings a monthly rollup answers: the rollup, its column, and the table that names it (the same
# keys and names as server.db.dimensions gives for the expenses). An outer join keeps the uncategorized
# row. spend_monthly has teams and categories, so it answers their filters too; merchant_monthly and
# employee_monthly (company-wide) only unfiltered questions.
ROLLUPS: dict[str, tuple[Any, Any, Any, Any, Any]] = {
    "category": (SpendMonthly, SpendMonthly.category_id, Category, Category.code, Category.name),
    "team": (SpendMonthly, SpendMonthly.team_id, Team, Team.name, Team.name),
    "merchant": (MerchantMonthly, MerchantMonthly.merchant_id, Merchant, Merchant.name, Merchant.name),
    "employee": (EmployeeMonthly, EmployeeMonthly.employee_id, Employee, Employee.email, Employee.name),
}
COMPANY_WIDE = ("merchant", "employee")


async def grouped_totals(session: AsyncSession, scope: SpendScope, group_by: GroupBy) -> list[GroupRow]:
    split = split_period(scope.date_from, scope.date_to)
    if split.months is None or not _rollup_answers(scope, group_by):
        await plan_each_run(session)  # the period decides the plan: a week is an index scan, a year is not
        return await base_totals(session, scope, group_by)
    rows = await _rollup_totals(session, scope, group_by, split.months)
    if split.edges:  # one statement for both edges: measured faster than one for each
        rows += await base_totals(session, scope, group_by, split.edges)
    return _merged(rows)


def _rollup_answers(scope: SpendScope, group_by: GroupBy) -> bool:
    if scope.employee_id is not None or group_by not in ("month", *ROLLUPS):
        return False
    return group_by not in COMPANY_WIDE or (scope.team_id is None and scope.category_id is None)


def _merged(rows: list[GroupRow]) -> list[GroupRow]:
    """One row per key (keys are unique within a company: category code, team name, month, merchant name,
    employee e-mail)."""
    merged: dict[str | None, GroupRow] = {}
    for row in rows:
        seen = merged.get(row.key)
        merged[row.key] = (
            row
            if seen is None
            else replace(seen, total_minor=seen.total_minor + row.total_minor, count=seen.count + row.count)
        )
    return list(merged.values())


async def _rollup_totals(
    session: AsyncSession, scope: SpendScope, group_by: GroupBy, months: DateRange
) -> list[GroupRow]:
    query = _rollup_statement(group_by, scope.team_id is not None, scope.category_id is not None)
    values = {"company_id": scope.company_id, "first": months[0], "last": months[1]}
    values |= {"team_id": scope.team_id, "category_id": scope.category_id}
    rows = (await session.execute(query, values)).all()
    if group_by == "month":
        return [GroupRow(f"{month:%Y-%m}", None, int(t), int(c)) for month, t, c in rows]
    return [GroupRow(k, n, int(t), int(c)) for k, n, t, c in rows]


# The rollup statements, built once per shape with their values bound at each call: building a select
# with a subquery and a join cost more CPU (~0.5 ms) than PostgreSQL takes to run it on a team's quarter.
@cache
def _rollup_statement(group_by: GroupBy, team: bool, category: bool) -> Executable:
    rollup = ROLLUPS[group_by][0] if group_by in ROLLUPS else SpendMonthly  # by month: spend_monthly
    conditions = [
        rollup.company_id == bindparam("company_id"),
        rollup.month.between(bindparam("first"), bindparam("last")),
    ]
    if team:
        conditions.append(SpendMonthly.team_id == bindparam("team_id"))
    if category:
        conditions.append(SpendMonthly.category_id == bindparam("category_id"))
    total, count = func.sum(rollup.total_minor), func.sum(rollup.expenses)
    if group_by == "month":
        return select(SpendMonthly.month, total, count).where(*conditions).group_by(SpendMonthly.month)
    # Totals per id first, then names: thousands of rollup rows meet a few dozen categories or teams (or
    # a few hundred merchants).
    _, column, table, key, name = ROLLUPS[group_by]
    totals = (
        select(column.label("id"), total.label("total"), count.label("count"))
        .where(*conditions)
        .group_by(column)
        .subquery()
    )
    return select(key, name, totals.c.total, totals.c.count).outerjoin_from(
        totals, table, table.id == totals.c.id
    )


def _conditions(scope: SpendScope, days: Sequence[DateRange]) -> list[ColumnElement[bool]]:
    conditions = [Expense.company_id == scope.company_id, or_(*(Expense.spent_on.between(*d) for d in days))]
    if scope.team_id is not None:
        conditions.append(Expense.team_id == scope.team_id)
    if scope.category_id is not None:
        conditions.append(Expense.category_id == scope.category_id)
    if scope.employee_id is not None:
        conditions.append(Expense.employee_id == scope.employee_id)
    return conditions


_TOTAL = func.sum(Expense.amount_company_minor)
_COUNT = func.count(Expense.id)


async def base_totals(
    session: AsyncSession, scope: SpendScope, group_by: GroupBy, days: Sequence[DateRange] = ()
) -> list[GroupRow]:
    """From the expenses themselves: any grouping, any filter, over `days` (default: the scope's period)."""
    days = days or [(scope.date_from, scope.date_to)]
    if group_by == "month":
        return await _by_month(session, scope, days)
    by = dimension(group_by)
    query = (
        by.joined(select(by.key, by.label, _TOTAL, _COUNT).select_from(Expense))
        .where(*_conditions(scope, days))
        .group_by(*by.group_by)
    )
    rows = (await session.execute(query)).all()
    return [GroupRow(k, n, int(total), int(count)) for k, n, total, count in rows]


async def _by_month(session: AsyncSession, scope: SpendScope, days: Sequence[DateRange]) -> list[GroupRow]:
    # EXTRACT compiles to strftime on SQLite and EXTRACT on PostgreSQL; both give the same integers.
    year = cast(extract("year", Expense.spent_on), Integer)
    month = cast(extract("month", Expense.spent_on), Integer)
    query = select(year, month, _TOTAL, _COUNT).where(*_conditions(scope, days)).group_by(year, month)
    rows = (await session.execute(query)).all()
    return [GroupRow(f"{y:04d}-{m:02d}", None, int(total), int(count)) for y, m, total, count in rows]

"""SQL for summarize_spend: one GROUP BY per dimension, the same results on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Integer, cast, extract, func, select

from server.db.dimensions import DIMENSIONS
from server.db.models import Expense

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
    key: str | None  # None: no category
    name: str | None
    total_minor: int
    count: int


def _conditions(scope: SpendScope) -> list[ColumnElement[bool]]:
    conditions = [
        Expense.company_id == scope.company_id,
        Expense.spent_on >= scope.date_from,
        Expense.spent_on <= scope.date_to,
    ]
    if scope.team_id is not None:
        conditions.append(Expense.team_id == scope.team_id)
    if scope.category_id is not None:
        conditions.append(Expense.category_id == scope.category_id)
    if scope.employee_id is not None:
        conditions.append(Expense.employee_id == scope.employee_id)
    return conditions


_TOTAL = func.sum(Expense.amount_company_minor)
_COUNT = func.count(Expense.id)


async def grouped_totals(session: AsyncSession, scope: SpendScope, group_by: GroupBy) -> list[GroupRow]:
    if group_by == "month":
        return await _by_month(session, scope)
    key, name, table, on, columns = DIMENSIONS[group_by]
    query = (
        select(key, name, _TOTAL, _COUNT)
        .select_from(Expense)
        .outerjoin(table, on)
        .where(*_conditions(scope))
        .group_by(*columns)
    )
    rows = (await session.execute(query)).all()
    return [GroupRow(k, n, int(total), int(count)) for k, n, total, count in rows]


async def _by_month(session: AsyncSession, scope: SpendScope) -> list[GroupRow]:
    # EXTRACT compiles to strftime on SQLite and EXTRACT on PostgreSQL; both give the same integers.
    year = cast(extract("year", Expense.spent_on), Integer)
    month = cast(extract("month", Expense.spent_on), Integer)
    query = select(year, month, _TOTAL, _COUNT).where(*_conditions(scope)).group_by(year, month)
    rows = (await session.execute(query)).all()
    return [GroupRow(f"{y:04d}-{m:02d}", None, int(total), int(count)) for y, m, total, count in rows]

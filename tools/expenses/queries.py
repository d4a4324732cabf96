"""SQL for the expenses capability. Every query is filtered by the caller's company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from server.db.models import (
    ApprovalDecision,
    ApprovalRequest,
    Category,
    Employee,
    Expense,
    Merchant,
    SpendMonthly,
    Team,
)
from server.db.rollups import monthly_slices
from server.periods import split_period

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ExpenseFilters:
    """Resolved search filters: ids and minor units, never names."""

    company_id: int
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team_id: int | None = None
    employee_id: int | None = None
    category_id: int | None = None
    merchant_text: str | None = None
    status: str | None = None
    min_minor: int | None = None
    max_minor: int | None = None
    uncategorized_only: bool = False
    missing_receipt: bool = False


@dataclass(frozen=True)
class ExpenseRow:
    expense: Expense
    employee: Employee
    team: Team
    merchant: Merchant
    category: Category | None


def _conditions(filters: ExpenseFilters) -> list[ColumnElement[bool]]:
    conditions = [Expense.company_id == filters.company_id]
    if filters.date_from is not None:
        conditions.append(Expense.spent_on >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Expense.spent_on <= filters.date_to)
    if filters.team_id is not None:
        conditions.append(Expense.team_id == filters.team_id)
    if filters.employee_id is not None:
        conditions.append(Expense.employee_id == filters.employee_id)
    if filters.category_id is not None:
        conditions.append(Expense.category_id == filters.category_id)
    if filters.uncategorized_only:
        conditions.append(Expense.category_id.is_(None))
    if filters.missing_receipt:
        conditions.append(Expense.receipt_present.is_(False))
    if filters.status is not None:
        conditions.append(Expense.status == filters.status)
    if filters.min_minor is not None:
        conditions.append(Expense.amount_company_minor >= filters.min_minor)
    if filters.max_minor is not None:
        conditions.append(Expense.amount_company_minor <= filters.max_minor)
    if filters.merchant_text:
        conditions.append(_mentions(filters.merchant_text.lower()))
    return conditions


def _mentions(needle: str) -> ColumnElement[bool]:
    """Case-insensitive contains on the raw descriptor or the merchant name (needs the merchant join)."""
    return or_(
        func.lower(Expense.descriptor).contains(needle, autoescape=True),
        func.lower(Merchant.name).contains(needle, autoescape=True),
    )


_ROWS = (
    select(Expense, Employee, Team, Merchant, Category)
    .join(Employee, Employee.id == Expense.employee_id)
    .join(Team, Team.id == Expense.team_id)
    .join(Merchant, Merchant.id == Expense.merchant_id)
    .outerjoin(Category, Category.id == Expense.category_id)
)


def _rows_query(filters: ExpenseFilters) -> Select[Expense, Employee, Team, Merchant, Category]:
    return _ROWS.where(*_conditions(filters))


async def search_page(
    session: AsyncSession, filters: ExpenseFilters, *, after: tuple[dt.date, int] | None, limit: int
) -> list[ExpenseRow]:
    """Up to `limit` rows, newest first (date, then id, descending), strictly after the keyset `after`."""
    query = _rows_query(filters)
    if after is not None:
        spent_on, expense_id = after
        query = query.where(
            or_(Expense.spent_on < spent_on, and_(Expense.spent_on == spent_on, Expense.id < expense_id))
        )
    query = query.order_by(Expense.spent_on.desc(), Expense.id.desc()).limit(limit)
    return [ExpenseRow(*row) for row in (await session.execute(query)).all()]


# Counting every match of a text or amount filter means reading every expense of the period (a second
# on a large company, for a page that took milliseconds); past this many, "more than" is what an agent
# needs to narrow its question.
COUNT_CAP = 1000
# Stand-ins for an open end of the period: whole months from the first that holds a date (0001-02: January
# of year 1 would need its day before for the edge) to the last that has a day after.
_EARLIEST, _LATEST = dt.date(1, 2, 1), dt.date(9998, 12, 31)


@dataclass(frozen=True)
class MatchCount:
    count: int
    capped: bool  # more than `count` match


async def count_matching(session: AsyncSession, filters: ExpenseFilters, *, cap: int | None) -> MatchCount:
    """Exact when the monthly rollup can answer (period, team, category, uncategorized); otherwise exact up
    to `cap` (None: no cap)."""
    if _rollup_counts(filters):
        return MatchCount(await _count_by_months(session, filters), capped=False)
    matches = select(Expense.id).where(*_conditions(filters))
    if filters.merchant_text:
        matches = matches.join(Merchant, Merchant.id == Expense.merchant_id)
    if cap is not None:
        matches = matches.limit(cap + 1)
    count = int(await session.scalar(select(func.count()).select_from(matches.subquery())) or 0)
    return MatchCount(count, capped=False) if cap is None or count <= cap else MatchCount(cap, capped=True)


def _rollup_counts(filters: ExpenseFilters) -> bool:
    """spend_monthly counts expenses per company, month, team and category, and nothing else."""
    return (
        filters.employee_id is None
        and not filters.merchant_text
        and filters.status is None
        and filters.min_minor is None
        and filters.max_minor is None
        and not filters.missing_receipt
    )


async def _count_by_months(session: AsyncSession, filters: ExpenseFilters) -> int:
    split = split_period(filters.date_from or _EARLIEST, filters.date_to or _LATEST)
    count = 0
    if split.months is not None:
        rollup = monthly_slices(
            filters.company_id,
            split.months,
            team_id=filters.team_id,
            category_id=filters.category_id,
            uncategorized=filters.uncategorized_only,
        )
        count += int(await session.scalar(select(func.sum(SpendMonthly.expenses)).where(*rollup)) or 0)
    for first, last in split.edges:
        edge = replace(filters, date_from=first, date_to=last)
        count += int(await session.scalar(select(func.count()).where(*_conditions(edge))) or 0)
    return count


# Built once, for the point lookup: building a select with its joins costs more than the lookup takes to
# run, and a statement built once also remembers its key into SQLAlchemy's compiled-statement cache. The
# expense comes with its approval requests (a row per request; none: one row with NULLs), in one round
# trip instead of two.
_REQUESTER = aliased(Employee)
_BY_REF = (
    _ROWS.add_columns(ApprovalRequest, _REQUESTER)
    .outerjoin(
        ApprovalRequest,
        and_(ApprovalRequest.expense_id == Expense.id, ApprovalRequest.company_id == Expense.company_id),
    )
    .outerjoin(_REQUESTER, _REQUESTER.id == ApprovalRequest.requester_id)
    .where(Expense.company_id == bindparam("company_id"), Expense.ref == bindparam("ref"))
    .order_by(ApprovalRequest.submitted_at, ApprovalRequest.id)
)


@dataclass(frozen=True)
class ExpenseWithRequests:
    row: ExpenseRow
    requests: list[tuple[ApprovalRequest, Employee]]


async def expense_by_ref(session: AsyncSession, company_id: int, ref: str) -> ExpenseWithRequests | None:
    """The expense with this ref and its approval requests (oldest first) with their requesters."""
    rows = (await session.execute(_BY_REF, {"company_id": company_id, "ref": ref})).all()
    if not rows:
        return None
    requests = [(row[5], row[6]) for row in rows if row[5] is not None]
    return ExpenseWithRequests(ExpenseRow(*rows[0][:5]), requests)


async def refs_containing(session: AsyncSession, company_id: int, text: str, *, limit: int) -> list[str]:
    query = (
        select(Expense.ref)
        .where(
            Expense.company_id == company_id, func.lower(Expense.ref).contains(text.lower(), autoescape=True)
        )
        .order_by(Expense.ref)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def refs_starting_with(session: AsyncSession, company_id: int, prefix: str, *, limit: int) -> list[str]:
    query = (
        select(Expense.ref)
        .where(
            Expense.company_id == company_id,
            func.lower(Expense.ref).startswith(prefix.lower(), autoescape=True),
        )
        .order_by(Expense.ref)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class DecisionRow:
    decision: ApprovalDecision
    approver: Employee
    on_behalf_of: Employee | None


_APPROVER, _PRINCIPAL = aliased(Employee), aliased(Employee)
_DECISIONS = (
    select(ApprovalDecision, _APPROVER, _PRINCIPAL)
    .join(_APPROVER, _APPROVER.id == ApprovalDecision.approver_id)
    .outerjoin(_PRINCIPAL, _PRINCIPAL.id == ApprovalDecision.on_behalf_of_id)
    .where(
        ApprovalDecision.company_id == bindparam("company_id"),
        ApprovalDecision.request_id.in_(bindparam("request_ids", expanding=True)),
    )
    .order_by(ApprovalDecision.request_id, ApprovalDecision.step, ApprovalDecision.id)
)


async def decisions_for(
    session: AsyncSession, company_id: int, request_ids: Sequence[int]
) -> list[DecisionRow]:
    if not request_ids:
        return []
    parameters = {"company_id": company_id, "request_ids": list(request_ids)}
    return [DecisionRow(*row) for row in (await session.execute(_DECISIONS, parameters)).all()]

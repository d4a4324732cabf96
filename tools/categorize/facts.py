"""An expense's facts as the categorizer reads them from the books: descriptor, merchant, MCC, memo,
amount, the team charged and the teams above it, cost centre, project and free dimensions. Every query
is filtered by the caller's company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, exists, func, select

from server.db.models import (
    Category,
    CategoryCorrection,
    CategorySource,
    Expense,
    ExpenseDimension,
    Merchant,
    Team,
)
from server.kit.money import currency_exponent
from tools.categorize.features import ExpenseFacts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.kit.expense_rows import ExpenseRow

# What the books' humans decided (and the company's imported rules): the model learns from these only,
# never from its own or the LLM's earlier answers.
TRUSTED_SOURCES = (CategorySource.HUMAN, CategorySource.RULE)
Parents = Mapping[str, tuple[str, ...]]  # team name -> the teams above it, nearest first


@dataclass(frozen=True)
class ExpenseFactsRow:
    id: int
    ref: str
    spent_on: dt.date
    descriptor: str
    merchant: str
    mcc: str | None
    memo: str | None
    amount_minor: int
    currency: str
    amount_company_minor: int
    team: str
    category_code: str | None
    category_name: str | None
    category_source: str | None
    cost_center: str | None = None
    project: str | None = None
    dims: tuple[tuple[str, str], ...] = ()
    corrected: bool = False  # a person corrected its category (recategorize_expense)


def facts_of(row: ExpenseFactsRow, currency: str, parents: Parents) -> ExpenseFacts:
    return ExpenseFacts(
        descriptor=row.descriptor,
        merchant=row.merchant,
        mcc=row.mcc,
        memo=row.memo,
        amount=major(row.amount_company_minor, currency),
        team=row.team,
        parents=parents.get(row.team, ()),
        cost_center=row.cost_center,
        project=row.project,
        dims=row.dims,
    )


def major(minor: int, currency: str) -> float:
    """Company-currency amount in major units: what the amount bands are measured in."""
    return minor / 10.0 ** currency_exponent(currency)


def minor(amount: float, currency: str) -> int:
    return round(amount * 10.0 ** currency_exponent(currency))


def _facts_query() -> Any:
    return (
        select(
            Expense.id,
            Expense.ref,
            Expense.spent_on,
            Expense.descriptor,
            Merchant.name,
            func.coalesce(Expense.mcc, Merchant.mcc),
            Expense.memo,
            Expense.amount_minor,
            Expense.currency,
            Expense.amount_company_minor,
            Team.name,
            Category.code,
            Category.name,
            Expense.category_source,
            Expense.cost_center,
            Expense.project,
        )
        .join(Merchant, Merchant.id == Expense.merchant_id)
        .join(Team, Team.id == Expense.team_id)
        .outerjoin(Category, Category.id == Expense.category_id)
    )


def facts_of_row(row: ExpenseRow) -> ExpenseFactsRow:
    """The facts of a row the expense selection already loaded (dimensions still to add: `with_dims`)."""
    expense, category = row.expense, row.category
    return ExpenseFactsRow(
        expense.id,
        expense.ref,
        expense.spent_on,
        expense.descriptor,
        row.merchant.name,
        expense.mcc or row.merchant.mcc,
        expense.memo,
        expense.amount_minor,
        expense.currency,
        expense.amount_company_minor,
        row.team.name,
        category.code if category else None,
        category.name if category else None,
        expense.category_source,
        expense.cost_center,
        expense.project,
    )


async def by_refs(session: AsyncSession, company_id: int, refs: Sequence[str]) -> list[ExpenseFactsRow]:
    return await _where(session, company_id, Expense.ref.in_(list(refs)))


async def by_ids(session: AsyncSession, company_id: int, ids: Sequence[int]) -> list[ExpenseFactsRow]:
    return await _where(session, company_id, Expense.id.in_(list(ids)))


async def _where(session: AsyncSession, company_id: int, which: ColumnElement[bool]) -> list[ExpenseFactsRow]:
    query = _facts_query().where(Expense.company_id == company_id, which)
    rows = [ExpenseFactsRow(*row) for row in (await session.execute(query)).all()]
    return await with_dims(session, company_id, rows)


async def training_history(session: AsyncSession, company_id: int, limit: int) -> list[ExpenseFactsRow]:
    """The newest `limit` expenses a human (or an imported rule) categorized, and whether a person
    corrected each: what the model learns from."""
    corrected = exists().where(
        CategoryCorrection.company_id == company_id, CategoryCorrection.expense_id == Expense.id
    )
    learned = (
        Expense.company_id == company_id,
        Expense.category_id.is_not(None),
        Expense.category_source.in_([s.value for s in TRUSTED_SOURCES]),
    )
    window = (
        select(Expense.id)
        .where(*learned)
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
        .limit(limit)
        .scalar_subquery()
    )
    query = (
        _facts_query().add_columns(corrected).where(Expense.company_id == company_id, Expense.id.in_(window))
    )
    rows = (await session.execute(query)).all()
    dims = await _dims_of(session, company_id, window)
    return [
        replace(ExpenseFactsRow(*row[:-1]), dims=dims.get(row[0], ()), corrected=bool(row[-1]))
        for row in rows
    ]


async def with_dims(
    session: AsyncSession, company_id: int, rows: Sequence[ExpenseFactsRow]
) -> list[ExpenseFactsRow]:
    """The rows with their free dimensions (one query for all of them)."""
    if not rows:
        return []
    found = await _dims_of(session, company_id, [r.id for r in rows])
    return [replace(r, dims=found[r.id]) if r.id in found else r for r in rows]


async def _dims_of(
    session: AsyncSession, company_id: int, ids: Any
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Expense id -> its free dimensions (name, value), sorted by name; `ids`: a list or a subquery."""
    query = (
        select(ExpenseDimension.expense_id, ExpenseDimension.name, ExpenseDimension.value)
        .where(ExpenseDimension.company_id == company_id, ExpenseDimension.expense_id.in_(ids))
        .order_by(ExpenseDimension.expense_id, ExpenseDimension.name)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for expense_id, name, value in (await session.execute(query)).all():
        found.setdefault(expense_id, []).append((name, value))
    return {expense_id: tuple(pairs) for expense_id, pairs in found.items()}


async def team_parents(session: AsyncSession, company_id: int) -> dict[str, tuple[str, ...]]:
    """Each team's name -> the teams above it, nearest first (a sub-team pools evidence with them)."""
    rows = (
        await session.execute(select(Team.id, Team.name, Team.parent_id).where(Team.company_id == company_id))
    ).all()
    teams = {team_id: (name, parent) for team_id, name, parent in rows}
    found: dict[str, tuple[str, ...]] = {}
    for name, parent in teams.values():
        chain: list[str] = []
        while parent is not None and parent in teams and len(chain) < len(teams):  # imports refuse cycles
            chain.append(teams[parent][0])
            parent = teams[parent][1]
        found[name] = tuple(chain)
    return found

"""SQL of people's corrections: an expense's category read for a change, the change written (expense,
correction, monthly rollup, record of data changes), and the corrections the categorizer reads back.
Every query is filtered by the caller's company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from server.audit import changes
from server.db.models import (
    Category,
    CategoryCorrection,
    CategorySource,
    Expense,
    Merchant,
    ModelVersion,
)
from server.db.rollups import recount_spend_monthly

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ExpenseCategory:
    """An expense's category as it stands, and what a correction needs to know about the expense."""

    id: int
    ref: str
    merchant: str
    category_id: int | None
    code: str | None
    name: str | None
    source: str | None
    confidence: float | None


@dataclass(frozen=True)
class Correction:
    expense: ExpenseCategory
    category_id: int
    code: str
    merchant_key: str
    subject: str
    reason: str | None


async def expense_category(session: AsyncSession, company_id: int, ref: str) -> ExpenseCategory | None:
    """The expense, locked until the transaction ends (PostgreSQL), so that two corrections of one
    expense take turns and each records the category it really replaced."""
    query = (
        select(
            Expense.id,
            Expense.ref,
            Merchant.name,
            Expense.category_id,
            Category.code,
            Category.name,
            Expense.category_source,
            Expense.category_confidence,
        )
        .join(Merchant, Merchant.id == Expense.merchant_id)
        .outerjoin(Category, Category.id == Expense.category_id)
        .where(Expense.company_id == company_id, Expense.ref == ref)
        .with_for_update(of=Expense)  # the tool-call role may lock expenses only
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else ExpenseCategory(*row)


async def correct(session: AsyncSession, company_id: int, correction: Correction) -> None:
    """Set the category as a person's (no confidence), keep the correction for the categorizer, recount
    the expense's month in the rollup and record the change, all in the caller's transaction."""
    expense = correction.expense
    await session.execute(
        update(Expense)
        .where(Expense.company_id == company_id, Expense.id == expense.id)
        .values(
            category_id=correction.category_id,
            category_source=CategorySource.HUMAN.value,
            category_confidence=None,
        )
    )
    await session.execute(
        insert(CategoryCorrection).values(
            company_id=company_id,
            expense_id=expense.id,
            merchant_key=correction.merchant_key,
            category_id=correction.category_id,
            previous_category_id=expense.category_id,
            subject=correction.subject,
            reason=correction.reason,
        )
    )
    await recount_spend_monthly(session, company_id, [expense.id])
    await changes.record(
        session, company_id, actor=correction.subject, action="recategorize", details=[_change(correction)]
    )


def _change(correction: Correction) -> dict[str, Any]:
    """The change as the record of data changes keeps it: the expense before and after, and why."""
    expense = correction.expense
    return {
        "table": "expenses",
        "key": expense.ref,
        "before": {
            "category": expense.code,
            "category_source": expense.source,
            "category_confidence": expense.confidence,
        },
        "after": {
            "category": correction.code,
            "category_source": CategorySource.HUMAN.value,
            "category_confidence": None,
        },
        "reason": correction.reason,
    }


async def since_training(
    session: AsyncSession, company_id: int, version_id: int | None, after_id: int, limit: int
) -> list[tuple[int, int, str]]:
    """(correction id, expense id, category code) of the corrections with an id above `after_id` made
    after the serving model version was trained (all of them when there is no model), the newest
    `limit`, oldest first: what the model has not learned yet."""
    query = (
        select(CategoryCorrection.id, CategoryCorrection.expense_id, Category.code)
        .join(Category, Category.id == CategoryCorrection.category_id)
        .where(CategoryCorrection.company_id == company_id, CategoryCorrection.id > after_id)
        .order_by(CategoryCorrection.id.desc())
        .limit(limit)
    )
    if version_id is not None:
        trained = select(ModelVersion.created_at).where(
            ModelVersion.company_id == company_id, ModelVersion.id == version_id
        )
        query = query.where(CategoryCorrection.at > trained.scalar_subquery())
    found = [(id_, expense_id, code) for id_, expense_id, code in (await session.execute(query)).all()]
    return found[::-1]

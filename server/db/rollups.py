"""Derived tables the hot read paths use instead of scanning every expense: rebuilt for a company by each
import (the only writer of amounts, teams and dates; categorization changes none of them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, insert, select

from server.db.models import Expense, RepeatCharge, TeamDailySpend

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Amounts at one merchant within this ratio of each other may be one subscription (seat counts change).
REPEAT_SPREAD = 3


async def rebuild_spend_rollups(session: AsyncSession, company_id: int) -> None:
    for table in (TeamDailySpend, RepeatCharge):
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
    amount = Expense.amount_company_minor
    pairs = (
        select(Expense.team_id, Expense.merchant_id)
        .where(Expense.company_id == company_id)
        .group_by(Expense.team_id, Expense.merchant_id)
        .having(func.count() >= 2, func.min(amount) > 0, func.max(amount) <= REPEAT_SPREAD * func.min(amount))
        .subquery()
    )
    charges = (
        select(Expense.id, Expense.company_id, Expense.team_id, Expense.merchant_id, Expense.spent_on, amount)
        .join(pairs, and_(pairs.c.team_id == Expense.team_id, pairs.c.merchant_id == Expense.merchant_id))
        .where(Expense.company_id == company_id)
    )
    columns = ["expense_id", "company_id", "team_id", "merchant_id", "spent_on", "amount_minor"]
    await session.execute(insert(RepeatCharge).from_select(columns, charges))

"""The expense policy in force: what `review_expenses`, the `outlay://policy/expenses` resource and
`outlay policy show` read. A company has none until an import or `outlay policy load` stores one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ExpensePolicy as ExpensePolicyRow
from server.kit.expense_policy import ExpensePolicy


async def expense_policy_in_force(session: AsyncSession, company_id: int) -> tuple[int, ExpensePolicy] | None:
    """(version, policy) of the company's highest version; None when it has none (the review then looks
    for its patterns only, with their default settings: `server.kit.expense_policy.NO_POLICY`)."""
    query = (
        select(ExpensePolicyRow.version, ExpensePolicyRow.document)
        .where(ExpensePolicyRow.company_id == company_id)
        .order_by(ExpensePolicyRow.version.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row.version, ExpensePolicy.model_validate(row.document))

"""SQL for the expenses capability. Every query is filtered by the caller's company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from server.db.dimensions import free_dimensions_of_expense
from server.db.models import ApprovalRequest, Employee, Expense
from server.kit.expense_rows import ROWS, ExpenseRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


# Built once, for the point lookup: building a select with its joins costs more than the lookup takes to
# run, and a statement built once also remembers its key into SQLAlchemy's compiled-statement cache. The
# expense comes with its approval requests (a row per request; none: one row with NULLs) and its free
# dimensions, in one round trip instead of three.
_REQUESTER = aliased(Employee)
_BY_REF = (
    ROWS.add_columns(ApprovalRequest, _REQUESTER, free_dimensions_of_expense())
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
    dimensions: dict[str, str]  # name -> value


async def expense_by_ref(session: AsyncSession, company_id: int, ref: str) -> ExpenseWithRequests | None:
    """The expense with this ref and its approval requests (oldest first) with their requesters."""
    rows = (await session.execute(_BY_REF, {"company_id": company_id, "ref": ref})).all()
    if not rows:
        return None
    requests = [(row[5], row[6]) for row in rows if row[5] is not None]
    dimensions = dict(sorted((rows[0][7] or {}).items()))
    return ExpenseWithRequests(ExpenseRow(*rows[0][:5]), requests, dimensions)


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

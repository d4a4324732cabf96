"""Decisions on approval requests, with who decided and for whom: what get_expense shows of an expense's
approvals and what suggest_approver reads of a request already under way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from server.db.models import ApprovalDecision, Employee

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


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
    """The decisions on these requests, by request, step and order of decision."""
    if not request_ids:
        return []
    parameters = {"company_id": company_id, "request_ids": list(request_ids)}
    return [DecisionRow(*row) for row in (await session.execute(_DECISIONS, parameters)).all()]

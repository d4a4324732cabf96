"""SQL of the approvals that act: a request filed, a request locked while it is decided, a decision
recorded. Every query is filtered by the caller's company; the change's record goes with it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from server.audit import changes
from server.db.models import ApprovalDecision, ApprovalRequest, Category, Employee, Team
from tools.approvers.acting import Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

REF_PREFIX = "APR-"
REF_DIGITS = 5


@dataclass(frozen=True)
class Filing:
    """A request to write, as the columns hold it (names resolved to ids by `file`)."""

    requester: str
    team: str
    category: str | None
    amount_minor: int
    currency: str
    amount_company_minor: int
    payment_type: str
    description: str | None
    filed_by: str
    filed_on_behalf: bool
    idempotency_key: str | None


@dataclass(frozen=True)
class Filed:
    """A request filed earlier with an idempotency key: what a retry is compared with."""

    ref: str
    status: str
    filing: Filing


@dataclass(frozen=True)
class Locked:
    id: int
    ref: str
    status: str


async def member(session: AsyncSession, company_id: int, email: str) -> Member | None:
    query = select(Employee.id, Employee.email, Employee.name, Employee.active).where(
        Employee.company_id == company_id, func.lower(Employee.email) == email.lower()
    )
    row = (await session.execute(query)).first()
    return None if row is None else Member(*row)


async def by_key(session: AsyncSession, company_id: int, key: str) -> Filed | None:
    requester = aliased(Employee)
    query = (
        select(
            ApprovalRequest.ref,
            ApprovalRequest.status,
            requester.email,
            Team.name,
            Category.code,
            ApprovalRequest.amount_minor,
            ApprovalRequest.currency,
            ApprovalRequest.amount_company_minor,
            ApprovalRequest.payment_type,
            ApprovalRequest.description,
            ApprovalRequest.filed_by,
            ApprovalRequest.filed_on_behalf,
            ApprovalRequest.idempotency_key,
        )
        .join(requester, requester.id == ApprovalRequest.requester_id)
        .join(Team, Team.id == ApprovalRequest.team_id)
        .outerjoin(Category, Category.id == ApprovalRequest.category_id)
        .where(ApprovalRequest.company_id == company_id, ApprovalRequest.idempotency_key == key)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    ref, status, *filing = row
    return Filed(ref, status, Filing(*filing))


async def next_ref(session: AsyncSession, company_id: int) -> str:
    """APR-00001, APR-00002, ...: one more than the highest such id of the company (imported ids of
    other shapes are left alone)."""
    query = (
        select(ApprovalRequest.ref)
        .where(ApprovalRequest.company_id == company_id, ApprovalRequest.ref.like(f"{REF_PREFIX}%"))
        .order_by(func.length(ApprovalRequest.ref).desc(), ApprovalRequest.ref.desc())
        .limit(50)
    )
    numbers = [
        int(suffix)
        for ref in (await session.scalars(query)).all()
        if (suffix := ref.removeprefix(REF_PREFIX)).isdigit()
    ]
    return f"{REF_PREFIX}{max(numbers, default=0) + 1:0{REF_DIGITS}d}"


async def file(session: AsyncSession, company_id: int, ref: str, filing: Filing, at: dt.datetime) -> None:
    """Insert the request (pending) and record the change."""
    ids = await _ids(session, company_id, filing)
    values = {
        "company_id": company_id,
        "ref": ref,
        **ids,
        "amount_minor": filing.amount_minor,
        "currency": filing.currency,
        "amount_company_minor": filing.amount_company_minor,
        "payment_type": filing.payment_type,
        "description": filing.description,
        "status": "pending",
        "submitted_at": at,
        "filed_by": filing.filed_by,
        "filed_on_behalf": filing.filed_on_behalf,
        "idempotency_key": filing.idempotency_key,
    }
    await session.execute(insert(ApprovalRequest).values(values))
    after = {
        "status": "pending",
        "requester": filing.requester,
        "team": filing.team,
        "category": filing.category,
        "amount_minor": filing.amount_minor,
        "currency": filing.currency,
        "payment_type": filing.payment_type,
        "filed_by": filing.filed_by,
        "filed_on_behalf": filing.filed_on_behalf,
    }
    detail = {"table": "approval_requests", "key": ref, "before": None, "after": after}
    await changes.record(
        session, company_id, actor=filing.filed_by, action="submit_spend_request", details=[detail]
    )


async def _ids(session: AsyncSession, company_id: int, filing: Filing) -> dict[str, int | None]:
    requester = select(Employee.id).where(
        Employee.company_id == company_id, Employee.email == filing.requester
    )
    team = select(Team.id).where(Team.company_id == company_id, Team.name == filing.team)
    category = None
    if filing.category is not None:
        found = select(Category.id).where(Category.company_id == company_id, Category.code == filing.category)
        category = (await session.execute(found)).scalar_one()
    return {
        "requester_id": (await session.execute(requester)).scalar_one(),
        "team_id": (await session.execute(team)).scalar_one(),
        "category_id": category,
    }


async def lock(session: AsyncSession, company_id: int, ref: str) -> Locked | None:
    """The request, locked until the transaction ends (PostgreSQL): two decisions of one request take
    turns, and the second sees the first."""
    query = (
        select(ApprovalRequest.id, ApprovalRequest.ref, ApprovalRequest.status)
        .where(ApprovalRequest.company_id == company_id, ApprovalRequest.ref == ref)
        .with_for_update()
    )
    row = (await session.execute(query)).first()
    return None if row is None else Locked(*row)


@dataclass(frozen=True)
class Deciding:
    request: Locked
    step: int
    approver: Member
    on_behalf_of: Member | None
    decision: str  # approved | rejected
    comment: str | None
    status: str  # the request's status after it


async def decide(session: AsyncSession, company_id: int, deciding: Deciding, at: dt.datetime) -> None:
    """Record the decision, move the request's status on, and record both changes."""
    request = deciding.request
    behalf = deciding.on_behalf_of
    await session.execute(
        insert(ApprovalDecision).values(
            company_id=company_id,
            request_id=request.id,
            step=deciding.step,
            approver_id=deciding.approver.id,
            on_behalf_of_id=None if behalf is None else behalf.id,
            decision=deciding.decision,
            decided_at=at,
            comment=deciding.comment,
        )
    )
    details: list[dict[str, Any]] = [
        {
            "table": "approval_decisions",
            "key": f"{request.ref} step {deciding.step}",
            "before": None,
            "after": {
                "decision": deciding.decision,
                "approver": deciding.approver.email,
                "on_behalf_of": None if behalf is None else behalf.email,
                "comment": deciding.comment,
            },
        }
    ]
    if deciding.status != request.status:
        await session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.company_id == company_id, ApprovalRequest.id == request.id)
            .values(status=deciding.status)
        )
        details.append(
            {
                "table": "approval_requests",
                "key": request.ref,
                "before": {"status": request.status},
                "after": {"status": deciding.status},
            }
        )
    actor = deciding.approver.email
    await changes.record(session, company_id, actor=actor, action="decide_approval", details=details)

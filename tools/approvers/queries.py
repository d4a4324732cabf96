"""SQL for suggest_approver and the approvers eval. Every query is filtered by the caller's company."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from server.db.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, Category, Employee, Team
from tools.approvers.org import Org, Person, SpendRequest
from tools.approvers.org import Team as OrgTeam

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Snapshot:
    company_id: int
    org: Org


@dataclass(frozen=True)
class StoredRequest:
    id: int
    ref: str
    spend: SpendRequest
    amount_minor: int
    currency: str
    description: str | None
    status: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class PastDecision:
    request_id: int
    step: int
    team: str
    category: str | None
    approver: str
    principal: str  # on_behalf_of, else the approver
    decided_at: dt.datetime
    since: dt.datetime  # the previous decision of the request, or its submission


async def current_policy(session: AsyncSession, company_id: int) -> tuple[int, dict[str, Any]] | None:
    """(version, document) of the highest version loaded."""
    query = (
        select(ApprovalPolicy.version, ApprovalPolicy.document)
        .where(ApprovalPolicy.company_id == company_id)
        .order_by(ApprovalPolicy.version.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def snapshot(session: AsyncSession, company_id: int, currency: str) -> Snapshot:
    """Everyone, every team and every category of the company, as the engine reads them."""
    manager, delegate = aliased(Employee), aliased(Employee)
    people = (
        select(
            Employee.email,
            Employee.name,
            Team.name.label("team"),
            Employee.role,
            manager.email.label("manager"),
            Employee.approval_limit_minor.label("limit_minor"),
            Employee.active,
            Employee.out_of_office_from.label("away_from"),
            Employee.out_of_office_until.label("away_until"),
            delegate.email.label("delegate"),
        )
        .join(Team, Team.id == Employee.team_id)
        .outerjoin(manager, manager.id == Employee.manager_id)
        .outerjoin(delegate, delegate.id == Employee.delegate_id)
        .where(Employee.company_id == company_id)
    )
    persons = [Person(**row._mapping) for row in (await session.execute(people)).all()]
    teams = await _teams(session, company_id)
    categories = await _category_parents(session, company_id)
    return Snapshot(company_id, Org(persons, teams, currency, categories))


async def _teams(session: AsyncSession, company_id: int) -> list[OrgTeam]:
    parent, manager = aliased(Team), aliased(Employee)
    query = (
        select(Team.name, parent.name, manager.email, Team.cost_center)
        .outerjoin(parent, parent.id == Team.parent_id)
        .outerjoin(manager, manager.id == Team.manager_id)
        .where(Team.company_id == company_id)
    )
    return [OrgTeam(*row) for row in (await session.execute(query)).all()]


async def _category_parents(session: AsyncSession, company_id: int) -> dict[str, str | None]:
    parent = aliased(Category)
    query = (
        select(Category.code, parent.code)
        .outerjoin(parent, parent.id == Category.parent_id)
        .where(Category.company_id == company_id)
    )
    return {code: parent_code for code, parent_code in (await session.execute(query)).all()}


def _requests_query() -> Any:
    requester = aliased(Employee)
    return (
        select(
            ApprovalRequest.id,
            ApprovalRequest.ref,
            requester.email,
            Team.name,
            Category.code,
            ApprovalRequest.amount_company_minor,
            ApprovalRequest.payment_type,
            ApprovalRequest.amount_minor,
            ApprovalRequest.currency,
            ApprovalRequest.description,
            ApprovalRequest.status,
            ApprovalRequest.submitted_at,
        )
        .join(requester, requester.id == ApprovalRequest.requester_id)
        .join(Team, Team.id == ApprovalRequest.team_id)
        .outerjoin(Category, Category.id == ApprovalRequest.category_id)
    )


def _stored(row: Any) -> StoredRequest:
    id_, ref, requester, team, category, company_minor, payment_type, *rest = row
    spend = SpendRequest(requester, team, company_minor, category, payment_type)
    return StoredRequest(id_, ref, spend, *rest)


async def request_by_ref(session: AsyncSession, company_id: int, ref: str) -> StoredRequest | None:
    query = _requests_query().where(ApprovalRequest.company_id == company_id, ApprovalRequest.ref == ref)
    row = (await session.execute(query)).first()
    return None if row is None else _stored(row)


async def refs_like(session: AsyncSession, company_id: int, text: str, *, limit: int) -> list[str]:
    query = (
        select(ApprovalRequest.ref)
        .where(
            ApprovalRequest.company_id == company_id,
            func.lower(ApprovalRequest.ref).contains(text.lower(), autoescape=True),
        )
        .order_by(ApprovalRequest.ref)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def requests(
    session: AsyncSession, company_id: int, *, status: str | None = None, limit: int | None = None
) -> list[tuple[StoredRequest, int]]:
    """Requests with how many decisions each has, newest first."""
    decided = (
        select(func.count(ApprovalDecision.id))
        .where(ApprovalDecision.request_id == ApprovalRequest.id)
        .scalar_subquery()
    )
    query = _requests_query().add_columns(decided).where(ApprovalRequest.company_id == company_id)
    if status is not None:
        query = query.where(ApprovalRequest.status == status)
    query = query.order_by(ApprovalRequest.submitted_at.desc(), ApprovalRequest.id.desc()).limit(limit)
    return [(_stored(row[:-1]), int(row[-1])) for row in (await session.execute(query)).all()]


async def past_decisions(
    session: AsyncSession,
    company_id: int,
    *,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[PastDecision]:
    """Decisions (newest first) with the time they took: since the request's previous decision, or
    since its submission for the first."""
    previous, approver, principal = aliased(ApprovalDecision), aliased(Employee), aliased(Employee)
    decision = ApprovalDecision
    query = (
        select(
            decision.request_id,
            decision.step,
            Team.name,
            Category.code,
            approver.email,
            func.coalesce(principal.email, approver.email),
            decision.decided_at,
            func.coalesce(previous.decided_at, ApprovalRequest.submitted_at),
        )
        .join(ApprovalRequest, ApprovalRequest.id == decision.request_id)
        .join(Team, Team.id == ApprovalRequest.team_id)
        .outerjoin(Category, Category.id == ApprovalRequest.category_id)
        .join(approver, approver.id == decision.approver_id)
        .outerjoin(principal, principal.id == decision.on_behalf_of_id)
        .outerjoin(
            previous, and_(previous.request_id == decision.request_id, previous.step == decision.step - 1)
        )
        .where(decision.company_id == company_id)
    )
    if since is not None:
        query = query.where(decision.decided_at >= since)
    query = query.order_by(decision.decided_at.desc(), decision.id.desc()).limit(limit)
    return [PastDecision(*row) for row in (await session.execute(query)).all()]

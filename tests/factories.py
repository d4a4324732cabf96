"""Keyword-only factories for ORM rows: build a small company in a few lines.

Every factory adds its row to the session and flushes, so the row has its id; the caller owns the
transaction. Amounts are decimal strings, converted with `server.kit.money` like the importer does.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

from server.db.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalRequest,
    Budget,
    Category,
    Company,
    Employee,
    Expense,
    ExpenseDimension,
    FxRate,
    Merchant,
    Team,
)
from server.kit.money import to_minor
from server.kit.periods import parse_period

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")

EPOCH = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


async def _saved(session: AsyncSession, row: RowT) -> RowT:
    session.add(row)
    await session.flush()
    return row


async def make_company(
    session: AsyncSession,
    *,
    slug: str = "acme",
    name: str | None = None,
    currency: str = "EUR",
    dimensions: tuple[str, ...] = (),
) -> Company:
    company = Company(slug=slug, name=name or slug.title(), currency=currency, dimensions=list(dimensions))
    return await _saved(session, company)


async def make_team(
    session: AsyncSession,
    *,
    company: Company,
    name: str,
    parent: Team | None = None,
    cost_center: str | None = None,
) -> Team:
    team = Team(
        company_id=company.id, name=name, parent_id=parent.id if parent else None, cost_center=cost_center
    )
    return await _saved(session, team)


async def make_employee(
    session: AsyncSession,
    *,
    company: Company,
    team: Team,
    name: str,
    email: str | None = None,
    role: str = "employee",
    manager: Employee | None = None,
    approval_limit: str | None = None,
    active: bool = True,
    manages_team: bool = False,
) -> Employee:
    employee = await _saved(
        session,
        Employee(
            company_id=company.id,
            team_id=team.id,
            name=name,
            email=email or f"{name.split()[0].lower()}@{company.slug}.example",
            role=role,
            manager_id=manager.id if manager else None,
            approval_limit_minor=to_minor(approval_limit, company.currency) if approval_limit else None,
            active=active,
        ),
    )
    if manages_team:
        team.manager_id = employee.id
        await session.flush()
    return employee


async def make_category(
    session: AsyncSession,
    *,
    company: Company,
    code: str,
    name: str | None = None,
    parent: Category | None = None,
    gl_account: str | None = None,
    vat_rate_bp: int | None = None,
    description: str | None = None,
    mcc_codes: tuple[str, ...] = (),
) -> Category:
    category = Category(
        company_id=company.id,
        code=code,
        name=name or code.title(),
        parent_id=parent.id if parent else None,
        gl_account=gl_account,
        vat_rate_bp=vat_rate_bp,
        description=description,
        mcc_codes=list(mcc_codes),
    )
    return await _saved(session, category)


async def make_merchant(
    session: AsyncSession, *, company: Company, name: str, mcc: str | None = None
) -> Merchant:
    return await _saved(session, Merchant(company_id=company.id, name=name, mcc=mcc))


async def make_expense(
    session: AsyncSession,
    *,
    company: Company,
    employee: Employee,
    merchant: Merchant,
    ref: str,
    spent_on: dt.date,
    amount: str = "10.00",
    currency: str | None = None,
    amount_company: str | None = None,
    team: Team | None = None,
    descriptor: str | None = None,
    mcc: str | None = None,
    memo: str | None = None,
    status: str = "pending",
    category: Category | None = None,
    category_source: str | None = None,
    category_confidence: float | None = None,
    receipt: bool = False,
    cost_center: str | None = None,
    project: str | None = None,
    dimensions: dict[str, str] | None = None,
) -> Expense:
    currency = currency or company.currency
    expense = Expense(
        company_id=company.id,
        ref=ref,
        descriptor=descriptor or merchant.name.upper(),
        merchant_id=merchant.id,
        mcc=mcc or merchant.mcc,
        amount_minor=to_minor(amount, currency),
        currency=currency,
        amount_company_minor=to_minor(amount_company or amount, company.currency),
        spent_on=spent_on,
        employee_id=employee.id,
        team_id=(team.id if team else employee.team_id),
        memo=memo,
        status=status,
        category_id=category.id if category else None,
        category_source=(category_source or "human") if category else None,
        category_confidence=category_confidence,
        receipt_present=receipt,
        cost_center=cost_center,
        project=project,
    )
    await _saved(session, expense)
    for name, value in (dimensions or {}).items():
        row = ExpenseDimension(expense_id=expense.id, name=name, company_id=company.id, value=value)
        await _saved(session, row)
    return expense


async def make_budget(
    session: AsyncSession,
    *,
    company: Company,
    team: Team,
    period: str,
    amount: str,
    category: Category | None = None,
) -> Budget:
    span = parse_period(period)
    budget = Budget(
        company_id=company.id,
        team_id=team.id,
        category_id=category.id if category else None,
        period_start=span.start,
        period_end=span.end,
        amount_minor=to_minor(amount, company.currency),
        currency=company.currency,
    )
    return await _saved(session, budget)


async def make_policy(
    session: AsyncSession,
    *,
    company: Company,
    version: int = 1,
    document: dict[str, Any] | None = None,
    created_at: dt.datetime = EPOCH,
) -> ApprovalPolicy:
    document = document or {
        "rules": [{"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]}]
    }
    policy = ApprovalPolicy(company_id=company.id, version=version, document=document, created_at=created_at)
    return await _saved(session, policy)


async def make_approval_request(
    session: AsyncSession,
    *,
    company: Company,
    ref: str,
    requester: Employee,
    amount: str,
    expense: Expense | None = None,
    category: Category | None = None,
    status: str = "approved",
    submitted_at: dt.datetime = EPOCH,
    description: str | None = None,
) -> ApprovalRequest:
    request = ApprovalRequest(
        company_id=company.id,
        ref=ref,
        requester_id=requester.id,
        team_id=requester.team_id,
        category_id=category.id if category else None,
        amount_minor=to_minor(amount, company.currency),
        currency=company.currency,
        amount_company_minor=to_minor(amount, company.currency),
        description=description,
        status=status,
        submitted_at=submitted_at,
        expense_id=expense.id if expense else None,
    )
    return await _saved(session, request)


async def make_decision(
    session: AsyncSession,
    *,
    request: ApprovalRequest,
    step: int,
    approver: Employee,
    decision: str = "approved",
    decided_at: dt.datetime | None = None,
    on_behalf_of: Employee | None = None,
) -> ApprovalDecision:
    row = ApprovalDecision(
        company_id=request.company_id,
        request_id=request.id,
        step=step,
        approver_id=approver.id,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        decision=decision,
        decided_at=decided_at or request.submitted_at + dt.timedelta(hours=step),
    )
    return await _saved(session, row)


async def make_fx_rate(
    session: AsyncSession, *, company: Company, currency: str, rate: str, valid_from: dt.date | None = None
) -> FxRate:
    row = FxRate(company_id=company.id, currency=currency, rate=rate, valid_from=valid_from)
    return await _saved(session, row)

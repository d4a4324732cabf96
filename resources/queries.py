"""SQL behind the resources. Every query is filtered by the caller's company."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from server.db.models import ApprovalPolicy, Budget, Category, Employee, ForecastSnapshot, Team

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def categories(session: AsyncSession, company_id: int) -> list[tuple[Category, str | None]]:
    """Each category with its parent's code."""
    parent = aliased(Category)
    query = (
        select(Category, parent.code)
        .outerjoin(parent, parent.id == Category.parent_id)
        .where(Category.company_id == company_id)
    )
    return list((await session.execute(query)).all())


async def teams(session: AsyncSession, company_id: int) -> list[tuple[Team, Employee | None]]:
    """Each team with its manager."""
    query = (
        select(Team, Employee)
        .outerjoin(Employee, Employee.id == Team.manager_id)
        .where(Team.company_id == company_id)
    )
    return list((await session.execute(query)).all())


async def headcounts(session: AsyncSession, company_id: int) -> dict[int, int]:
    query = (
        select(Employee.team_id, func.count(Employee.id))
        .where(Employee.company_id == company_id, Employee.active.is_(True))
        .group_by(Employee.team_id)
    )
    return {team_id: int(count) for team_id, count in (await session.execute(query)).all()}


async def current_policy(session: AsyncSession, company_id: int) -> ApprovalPolicy | None:
    query = (
        select(ApprovalPolicy)
        .where(ApprovalPolicy.company_id == company_id)
        .order_by(ApprovalPolicy.version.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def budgets_overlapping(
    session: AsyncSession, company_id: int, start: dt.date, end: dt.date
) -> list[tuple[Budget, Team, Category | None]]:
    query = (
        select(Budget, Team, Category)
        .join(Team, Team.id == Budget.team_id)
        .outerjoin(Category, Category.id == Budget.category_id)
        .where(Budget.company_id == company_id, and_(Budget.period_start <= end, Budget.period_end >= start))
    )
    return list((await session.execute(query)).all())


async def latest_forecast(session: AsyncSession, company_id: int) -> ForecastSnapshot | None:
    query = (
        select(ForecastSnapshot)
        .where(ForecastSnapshot.company_id == company_id)
        .order_by(ForecastSnapshot.created_at.desc(), ForecastSnapshot.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).one_or_none()

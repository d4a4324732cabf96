"""The summarize_spend use case: resolve what the agent named, aggregate in SQL, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from server.db.values import FREE, free_name
from server.kit.money import format_amount
from server.kit.resolve import check_dimensions, given, resolve_category, resolve_employee, resolve_team
from tools.spend import logic, queries
from tools.spend.schemas import SpendFilters, SpendSummary, SummaryRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller


async def summarize(
    session: AsyncSession, caller: Caller, today: dt.date, request: SummaryRequest
) -> SpendSummary:
    period = logic.choose_period(request, today)
    company = caller.company_id
    if (name := free_name(request.group_by)) is not None:
        await check_dimensions(session, company, [name], argument="group_by", spelled=FREE + "{}")
    team = await resolve_team(session, company, text) if (text := given(request.team)) else None
    category = await resolve_category(session, company, text) if (text := given(request.category)) else None
    employee = await resolve_employee(session, company, text) if (text := given(request.employee)) else None
    scope = queries.SpendScope(
        company_id=company,
        date_from=period.start,
        date_to=period.end,
        team_id=None if team is None else team.id,
        category_id=None if category is None else category.id,
        employee_id=None if employee is None else employee.id,
    )
    rows = await queries.grouped_totals(session, scope, request.group_by)
    groups, others = logic.build_groups(rows, request.group_by, period, caller.currency, request.top)
    return SpendSummary(
        date_from=period.start,
        date_to=period.end,
        period=period.label,
        group_by=request.group_by,
        currency=caller.currency,
        total=format_amount(sum(row.total_minor for row in rows), caller.currency),
        count=sum(row.count for row in rows),
        groups=groups,
        others=others,
        filters=SpendFilters(
            team=None if team is None else team.name,
            category=None if category is None else category.code,
            employee=None if employee is None else employee.email,
        ),
    )

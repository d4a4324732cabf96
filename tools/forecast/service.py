"""The forecast use cases: one budget in depth (forecast_budget), every budget by risk (forecast_budgets)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import anyio

from server.kit.money import format_amount
from server.kit.periods import Period, asked_period, date_range, parse_period
from server.kit.resolve import given, resolve_category, resolve_team
from tools.forecast import drivers, logic, queries
from tools.forecast.calendar import CompanyDays
from tools.forecast.engine import Calibration, calibrate_scopes
from tools.forecast.history import ScopeHistory
from tools.forecast.projection import Projection, project
from tools.forecast.schemas import BudgetForecast, BudgetRanking, ForecastRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller


async def forecast_budget(
    app: AppContext, session: AsyncSession, caller: Caller, request: ForecastRequest
) -> BudgetForecast:
    today = app.clock.today()
    company = caller.company_id
    team = await resolve_team(session, company, request.team)
    category = await resolve_category(session, company, text) if (text := given(request.category)) else None
    scope = queries.Scope(team.id, None if category is None else category.id)
    period = asked_period(request.period, request.date_from, request.date_to)
    if period is None:
        period = await _running_period(session, company, scope, today)
    budgets = await queries.budgets_overlapping(session, company, period.start, period.end, scope)
    budget, budget_note = logic.budget_for(period, budgets)
    calendar = await _company_days(app, session, company, today)
    history = (
        await queries.histories(session, company, [scope], today, exact_from=period.start, calendar=calendar)
    )[scope]
    for_teams, for_categories = await _calibrations(app, session, company, today, {scope: history})
    calibration = for_teams if scope.category_id is None else for_categories
    projection = project(history, period.start, period.end, today, budget, calibration)
    comparisons = await drivers.comparisons(
        session, company, team.id, scope.category_id, period.start, period.end, today, caller.currency
    )
    currency = caller.currency
    return BudgetForecast(
        team=team.name,
        category=None if category is None else category.code,
        period=period.label,
        date_from=period.start,
        date_to=period.end,
        as_of=today,
        currency=currency,
        budget=None if budget is None else format_amount(budget, currency),
        outlook=projection.outlook,
        spent_to_date=format_amount(projection.spent, currency),
        remaining_budget=None if budget is None else format_amount(budget - projection.spent, currency),
        forecast=logic.period_end(projection, currency),
        overrun_probability=None if projection.probability is None else round(projection.probability, 3),
        expected_overrun=logic.expected_overrun(projection, currency),
        projected_overrun_date=projection.overrun_date,
        components=logic.components(projection, currency),
        recurring=logic.recurring_charges(projection, currency),
        months=logic.month_points(projection, currency),
        drivers=comparisons,
        method=logic.method(projection, [budget_note] if budget_note else [], currency),
    )


async def rank_budgets(
    app: AppContext, session: AsyncSession, caller: Caller, period_text: str | None, top: int
) -> BudgetRanking:
    today = app.clock.today()
    company = caller.company_id
    period = parse_period(period_text) if period_text else None
    start, end = (period.start, period.end) if period else (today, today)
    rows = await queries.budgets_overlapping(session, company, start, end)
    exact_from = min((row.start for row in rows), default=today)
    wanted = {row.scope for row in rows}
    calendar = await _company_days(app, session, company, today)
    histories = await queries.histories(
        session, company, wanted, today, exact_from=exact_from, calendar=calendar
    )
    # The calibration (once a day) reads the other teams' and categories' histories itself.
    for_teams, for_categories = await _calibrations(app, session, company, today, histories)

    def project_all() -> list[tuple[queries.BudgetRow, Projection]]:
        return [
            (row, project(histories[row.scope], row.start, row.end, today, row.amount_minor, calibration))
            for row in rows
            for calibration in [for_teams if row.scope.category_id is None else for_categories]
        ]

    # A model fit per budget: a large company's few hundred milliseconds, off the event loop.
    ranked = await anyio.to_thread.run_sync(project_all)
    ranked.sort(key=logic.risk_order)
    risks = [logic.risk(row, projection, caller.currency) for row, projection in ranked]
    return BudgetRanking(
        as_of=today,
        currency=caller.currency,
        period=None if period is None else period.label,
        count=len(risks),
        at_risk=sum(risk.outlook in ("over_budget", "likely_over", "at_risk") for risk in risks),
        budgets=risks[:top],
    )


async def _running_period(
    session: AsyncSession, company: int, scope: queries.Scope, today: dt.date
) -> Period:
    """The scope's budget period running today, else the current quarter."""
    running = await queries.budgets_overlapping(session, company, today, today, scope)
    if running:
        return date_range(running[0].start, running[0].end)
    return logic.quarter_of(today)


async def _calibrations(
    app: AppContext,
    session: AsyncSession,
    company: int,
    today: dt.date,
    loaded: dict[queries.Scope, ScopeHistory] | None = None,
) -> tuple[Calibration, Calibration]:
    """The company's backtest errors (for team budgets, for category budgets), computed once per company
    and day and refreshed as data arrives."""
    key = ("forecast-calibration", company, today)
    cached = app.derived.get(key)
    if isinstance(cached, tuple):
        return cached
    teams = await queries.all_teams(session, company)
    categories = await queries.category_scopes(session, company)
    histories = dict(loaded or {})
    if missing := [scope for scope in (*teams, *categories) if scope not in histories]:
        calendar = await _company_days(app, session, company, today)
        histories |= await queries.histories(session, company, missing, today, calendar=calendar)
    team_histories = [histories[team] for team in teams]
    category_histories = [histories[scope] for scope in categories]
    # CPU-bound (a few hundred model fits): off the event loop so other calls keep flowing.
    pair = await anyio.to_thread.run_sync(lambda: calibrate_scopes(team_histories, category_histories, today))
    app.derived.put(key, pair)
    return pair


async def _company_days(app: AppContext, session: AsyncSession, company: int, today: dt.date) -> CompanyDays:
    """The company's spend by day and country, from which the within-period calendar is learned: read
    once per company and day (and after 15 minutes, as data arrives), like the calibration."""
    key = ("forecast-calendar", company, today)
    cached = app.derived.get(key)
    if isinstance(cached, CompanyDays):
        return cached
    days = await queries.company_days(session, company, today)
    app.derived.put(key, days)
    return days

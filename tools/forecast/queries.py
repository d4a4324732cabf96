"""SQL for the forecast: budgets, daily totals, recurring-charge candidates, approved requests not spent.

Histories for many budgets load in a handful of GROUP BY queries (team-level totals for every team at
once), so ranking every budget of a large company costs the same few round trips as one budget."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, extract, func, null, or_, select

from server.db.models import (
    ApprovalRequest,
    Budget,
    Category,
    Company,
    Expense,
    Merchant,
    RepeatCharge,
    Team,
    TeamDailySpend,
)
from server.kit.countries import public_holidays
from tools.forecast.calendar import CompanyDays, no_holidays
from tools.forecast.engine import BACKTEST_DAYS
from tools.forecast.history import Charge, ScopeHistory, month_end, month_index

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

HISTORY_DAYS = 3 * 366 + 31  # three years and the current month: what the model can use
KNOWN_WITHIN_DAYS = 90  # an approved request older than this and still unspent is not coming
EXACT_DAYS = 100  # read day by day at least this far back (a quarter so far), by thirds of a month before
THIRDS = BACKTEST_DAYS[1:]  # the last days of a month's first two thirds: where the backtests cut


@dataclass(frozen=True)
class Scope:
    team_id: int
    category_id: int | None = None


@dataclass(frozen=True)
class BudgetRow:
    id: int
    scope: Scope
    team: str
    category: str | None  # code
    start: dt.date
    end: dt.date
    amount_minor: int


async def budgets_overlapping(
    session: AsyncSession, company_id: int, start: dt.date, end: dt.date, scope: Scope | None = None
) -> list[BudgetRow]:
    query = (
        select(Budget, Team.name, Category.code)
        .join(Team, Team.id == Budget.team_id)
        .outerjoin(Category, Category.id == Budget.category_id)
        .where(Budget.company_id == company_id, Budget.period_start <= end, Budget.period_end >= start)
        .order_by(Team.name, Category.code, Budget.period_start)
    )
    if scope is not None:
        query = query.where(Budget.team_id == scope.team_id)
        query = query.where(
            Budget.category_id.is_(None)
            if scope.category_id is None
            else Budget.category_id == scope.category_id
        )
    rows = (await session.execute(query)).all()
    return [
        BudgetRow(
            id=budget.id,
            scope=Scope(budget.team_id, budget.category_id),
            team=team,
            category=code,
            start=budget.period_start,
            end=budget.period_end,
            amount_minor=budget.amount_minor,
        )
        for budget, team, code in rows
    ]


async def histories(
    session: AsyncSession,
    company_id: int,
    scopes: Iterable[Scope],
    as_of: dt.date,
    *,
    exact_from: dt.date | None = None,
    calendar: CompanyDays | None = None,
) -> dict[Scope, ScopeHistory]:
    """The history of each scope up to `as_of` (team scopes: every category of the team): by day from
    `exact_from` (default: about three months back; pass a period's start to read it day by day), by
    thirds of a month before (ScopeHistory explains why that is enough); with the company's days
    (`calendar`, read here unless given)."""
    wanted = set(scopes)
    since = history_start(as_of)
    recent = _month_start(min(exact_from or as_of, as_of - dt.timedelta(days=EXACT_DAYS)))
    spend = await _spend(session, company_id, wanted, since, recent, as_of)
    charges, singles = _alone(await _charges(session, company_id, wanted, since, as_of))
    known = await _known(session, company_id, as_of)
    if calendar is None:
        calendar = await company_days(session, company_id, as_of, since)
    result = {}
    for scope in wanted:
        days, first = spend.get(scope, ({}, as_of))
        result[scope] = ScopeHistory(
            daily=days,
            first_day=first,
            charges=tuple(charges.get(scope, ())),
            known_minor=_known_for(known, scope),
            calendar=calendar,
            singles=tuple(singles.get(scope, ())),
        )
    return result


async def company_days(
    session: AsyncSession, company_id: int, as_of: dt.date, since: dt.date | None = None
) -> CompanyDays:
    """The company's spend per day (every team, from the rollups: ~1,100 rows for three years whatever its
    size), less the charges that may recur (they are forecast on their own dates, not by the calendar),
    and its country: how the forecast learns the way variable spend falls over a month's days."""
    since = since or history_start(as_of)
    country = await session.scalar(select(Company.country).where(Company.id == company_id))
    daily: dict[dt.date, int] = defaultdict(int)
    # The pairs charged more than once (the rollup holds the pairs charged once too, for renewal.py:
    # a one-off is variable spend, whose days the calendar learns).
    repeats = (
        select(RepeatCharge.team_id, RepeatCharge.merchant_id)
        .where(RepeatCharge.company_id == company_id)
        .group_by(RepeatCharge.team_id, RepeatCharge.merchant_id)
        .having(func.count() >= 2)
        .subquery()
    )
    pair = and_(RepeatCharge.team_id == repeats.c.team_id, RepeatCharge.merchant_id == repeats.c.merchant_id)
    for rollup, amount, sign in (
        (TeamDailySpend, TeamDailySpend.total_minor, 1),
        (RepeatCharge, RepeatCharge.amount_minor, -1),
    ):
        query = (
            select(rollup.spent_on, func.sum(amount))
            .where(rollup.company_id == company_id, rollup.spent_on >= since, rollup.spent_on <= as_of)
            .group_by(rollup.spent_on)
        )
        if rollup is RepeatCharge:
            query = query.join(repeats, pair)
        for day, total in await session.execute(query):
            daily[day] += sign * int(total)
    holidays = partial(public_holidays, country) if country else no_holidays
    return CompanyDays(dict(daily), country, holidays)


def history_start(as_of: dt.date) -> dt.date:
    return _month_start(as_of - dt.timedelta(days=HISTORY_DAYS))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _third(day: Any) -> Any:
    """1, 2 or 3: days 1-10, 11-20, 21 to the month's end."""
    day_of_month = extract("day", day)
    return case((day_of_month <= THIRDS[0], 1), (day_of_month <= THIRDS[1], 2), else_=3)


def _third_span(year: int, month: int, third: int) -> tuple[dt.date, dt.date]:
    starts = (1, THIRDS[0] + 1, THIRDS[1] + 1)
    first = dt.date(year, month, starts[third - 1])
    return first, dt.date(year, month, THIRDS[third - 1]) if third < 3 else month_end(month_index(first))


async def _spend(
    session: AsyncSession,
    company_id: int,
    scopes: set[Scope],
    since: dt.date,
    recent: dt.date,
    as_of: dt.date,
) -> dict[Scope, tuple[dict[dt.date, int], dt.date]]:
    """Per scope: spend keyed by day from `recent`, by the last day of each third of a month before; and
    the first day with spend."""
    result: dict[Scope, tuple[dict[dt.date, int], dt.date]] = {}
    teams = {scope.team_id for scope in scopes if scope.category_id is None}
    pairs = [scope for scope in scopes if scope.category_id is not None]
    sources: list[tuple[list[Any], Any, Any, list[ColumnElement[bool]]]] = []
    if teams:
        rollup = TeamDailySpend
        where = [rollup.company_id == company_id, rollup.team_id.in_(teams)]
        sources.append(([rollup.team_id], rollup.spent_on, rollup.total_minor, where))
    if pairs:
        where = [Expense.company_id == company_id, _any_pair(pairs)]
        sources.append(
            ([Expense.team_id, Expense.category_id], Expense.spent_on, Expense.amount_company_minor, where)
        )
    for keys, day, amount, where in sources:
        year, month, third = extract("year", day), extract("month", day), _third(day)
        older = (
            select(*keys, year, month, third, func.sum(amount))
            .where(*where, day >= since, day < recent)
            .group_by(*keys, year, month, third)
        )
        for *key, y, m, t, total in await session.execute(older):
            first, last = _third_span(int(y), int(m), int(t))
            _add(result, Scope(*key), last, int(total), first)
        newer = (
            select(*keys, day, func.sum(amount))
            .where(*where, day >= recent, day <= as_of)
            .group_by(*keys, day)
        )
        for *key, on, total in await session.execute(newer):
            _add(result, Scope(*key), on, int(total), on)
    return result


Spend = dict[Scope, tuple[dict[dt.date, int], dt.date]]


def _add(result: Spend, scope: Scope, day: dt.date, total: int, since: dt.date) -> None:
    days, first = result.setdefault(scope, ({}, since))
    days[day] = days.get(day, 0) + total
    if since < first:
        result[scope] = (days, since)


async def _charges(
    session: AsyncSession, company_id: int, scopes: set[Scope], since: dt.date, as_of: dt.date
) -> dict[Scope, list[Charge]]:
    """Charges that may recur (repeat charges at one merchant), with their current category when a
    category scope asks (categorization moves expenses between categories; the rollup does not follow)."""
    charge = RepeatCharge
    by_category = any(scope.category_id is not None for scope in scopes)
    query = (
        select(
            charge.team_id,
            Expense.category_id if by_category else null(),
            charge.merchant_id,
            Merchant.name,
            charge.spent_on,
            charge.amount_minor,
        )
        .join(Merchant, Merchant.id == charge.merchant_id)
        .where(
            charge.company_id == company_id,
            charge.team_id.in_({scope.team_id for scope in scopes}),
            charge.spent_on >= since,
            charge.spent_on <= as_of,
        )
        .order_by(charge.spent_on, charge.expense_id)
    )
    if by_category:
        query = query.join(Expense, Expense.id == charge.expense_id)
    result: dict[Scope, list[Charge]] = defaultdict(list)
    for team_id, category_id, merchant_id, merchant, day, amount in await session.execute(query):
        found = Charge(merchant_id, merchant, day, int(amount))
        if Scope(team_id) in scopes:
            result[Scope(team_id)].append(found)
        if category_id is not None and Scope(team_id, category_id) in scopes:
            result[Scope(team_id, category_id)].append(found)
    return result


def _alone(charges: dict[Scope, list[Charge]]) -> tuple[dict[Scope, list[Charge]], dict[Scope, list[Charge]]]:
    """(charges that may recur, charges alone at their merchant in the window): a pair `repeat_charges`
    holds with one expense here is a one-off or a yearly licence charged once so far (renewal.py)."""
    repeats: dict[Scope, list[Charge]] = {}
    singles: dict[Scope, list[Charge]] = {}
    for scope, found in charges.items():
        count = Counter(charge.merchant_id for charge in found)
        repeats[scope] = [charge for charge in found if count[charge.merchant_id] > 1]
        singles[scope] = [charge for charge in found if count[charge.merchant_id] == 1]
    return repeats, singles


async def _known(session: AsyncSession, company_id: int, as_of: dt.date) -> dict[Scope, int]:
    """Approved, recent requests with no expense yet, by team and category."""
    since = dt.datetime.combine(as_of - dt.timedelta(days=KNOWN_WITHIN_DAYS), dt.time(), tzinfo=dt.UTC)
    query = (
        select(
            ApprovalRequest.team_id,
            ApprovalRequest.category_id,
            func.sum(ApprovalRequest.amount_company_minor),
        )
        .where(
            ApprovalRequest.company_id == company_id,
            ApprovalRequest.status == "approved",
            ApprovalRequest.expense_id.is_(None),
            ApprovalRequest.submitted_at >= since,
        )
        .group_by(ApprovalRequest.team_id, ApprovalRequest.category_id)
    )
    return {Scope(team, category): int(total) for team, category, total in await session.execute(query)}


def _known_for(known: dict[Scope, int], scope: Scope) -> int:
    if scope.category_id is not None:
        return known.get(scope, 0)
    return sum(amount for key, amount in known.items() if key.team_id == scope.team_id)


def _any_pair(pairs: list[Scope]) -> ColumnElement[bool]:
    return or_(*(and_(Expense.team_id == p.team_id, Expense.category_id == p.category_id) for p in pairs))


async def category_scopes(session: AsyncSession, company_id: int) -> list[Scope]:
    """Every (team, category) the company budgets for, in any period."""
    query = (
        select(Budget.team_id, Budget.category_id)
        .where(Budget.company_id == company_id, Budget.category_id.is_not(None))
        .distinct()
        .order_by(Budget.team_id, Budget.category_id)
    )
    return [Scope(team, category) for team, category in await session.execute(query)]


async def all_teams(session: AsyncSession, company_id: int) -> list[Scope]:
    rows = await session.execute(select(Team.id).where(Team.company_id == company_id).order_by(Team.id))
    return [Scope(team_id) for (team_id,) in rows]

"""What is usual, for spikes: each team's and each person's expenses per category over the 12 calendar
months before an expense's month, totalled in SQL a month at a time and added up here.

Teams come from the monthly rollup (`spend_monthly`: refunds netted, no largest amount), which is cheap;
people from the expenses, and only for the scope's charges that already stand out against their team
(the others cannot be spikes), so that a month of a whole company reads a few people's history, not all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING

from sqlalchemy import Integer, Select, cast, extract, func, select

from server.db.models import Category, Employee, Expense, SpendMonthly, Team
from tools.review.findings import ReviewedExpense, Usual

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MONTHS = 12
Key = tuple[str, str, dt.date]  # (employee e-mail or team name, category code, first day of the month)
Monthly = dict[tuple[str, str], dict[dt.date, Usual]]


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _window(days: Iterable[dt.date]) -> tuple[dt.date, dt.date]:
    """The first days of the earliest and the latest month the months of any of `days` look back on."""
    distinct = set(days)
    return add_months(month_of(min(distinct)), -MONTHS), add_months(month_of(max(distinct)), -1)


def _rolled(monthly: Monthly, wanted: Iterable[Key]) -> dict[Key, Usual]:
    """Each wanted (who, category, month): the 12 months before it added up."""
    found: dict[Key, Usual] = {}
    for who, category, month in wanted:
        months = monthly.get((who, category), {})
        window = [u for m, u in months.items() if add_months(month, -MONTHS) <= m < month]
        if window:
            maxima = [u.max_minor for u in window if u.max_minor is not None]
            found[who, category, month] = Usual(
                count=sum(u.count for u in window),
                total_minor=sum(u.total_minor for u in window),
                max_minor=max(maxima) if len(maxima) == len(window) else None,
            )
    return found


def _charges(scope: Iterable[ReviewedExpense]) -> list[ReviewedExpense]:
    return [e for e in scope if e.amount_minor > 0 and e.category is not None]


async def team_usual(
    session: AsyncSession, company_id: int, scope: list[ReviewedExpense]
) -> dict[Key, Usual]:
    # The distinct (team, category, day)s of the charges, made in C: a team's quarter has 12,000 charges
    # on some 2,000 of them, and the window, the teams and the months wanted come from those.
    days = set(map(_team_category_day, _charges(scope)))
    if not days:
        return {}
    first, last = _window(day for _, _, day in days)
    query = (
        select(Team.name, Category.code, SpendMonthly.month, SpendMonthly.expenses, SpendMonthly.total_minor)
        .join(Team, Team.id == SpendMonthly.team_id)
        .join(Category, Category.id == SpendMonthly.category_id)
        .where(
            SpendMonthly.company_id == company_id,
            SpendMonthly.month.between(first, last),
            Team.name.in_(sorted({team for team, _, _ in days})),
        )
    )
    monthly: Monthly = defaultdict(dict)
    for team, category, month, count, total in (await session.execute(query)).all():
        monthly[team, category][month] = Usual(int(count), int(total))
    return _rolled(monthly, {(team, str(category), month_of(day)) for team, category, day in days})


_team_category_day: Callable[[ReviewedExpense], tuple[str, str | None, dt.date]] = attrgetter(
    "team", "category", "spent_on"
)


def standing_out(
    scope: Iterable[ReviewedExpense], teams: Mapping[Key, Usual], factor: Fraction, min_history: int
) -> list[ReviewedExpense]:
    """The charges with an employee above `factor` times their team's usual: the only possible spikes."""
    return _above(scope, lambda e: e.team, teams, factor, min_history, employees_only=True)


def above_own(
    candidates: Iterable[ReviewedExpense], own: Mapping[Key, Usual], factor: Fraction, min_history: int
) -> list[ReviewedExpense]:
    """The candidates also above `factor` times their own usual and their largest: the only ones whose
    merchant's usual matters."""
    return _above(candidates, lambda e: str(e.employee), own, factor, min_history)


def _above(
    expenses: Iterable[ReviewedExpense],
    who: Callable[[ReviewedExpense], str],
    usuals: Mapping[Key, Usual],
    factor: Fraction,
    min_history: int,
    *,
    employees_only: bool = False,
) -> list[ReviewedExpense]:
    """The charges (with a category; with an employee too if `employees_only`) above `factor` times the mean
    of their usual and above its largest. Each usual's cut is a whole number of minor units, computed once
    (amount x count x den > num x total exactly when amount > (num x total) // (count x den)); the charges at
    or below the smallest cut are dropped inline before any is looked up (a month has 80,000)."""
    num, den = factor.numerator, factor.denominator
    cuts = {
        key: max((num * u.total_minor) // (u.count * den), -1 if u.max_minor is None else u.max_minor)
        for key, u in usuals.items()
        if u.count >= min_history and u.total_minor > 0
    }
    if not cuts:
        return []
    least = max(min(cuts.values()), 0)  # and a charge is more than 0
    wanted = [
        e
        for e in expenses
        if e.amount_minor > least and e.category is not None and (e.employee or not employees_only)
    ]
    months = _MonthOf()
    found = []
    for e in wanted:
        cut = cuts.get((who(e), str(e.category), months[e.spent_on]))
        if cut is not None and e.amount_minor > cut:
            found.append(e)
    return found


class _MonthOf(dict[dt.date, dt.date]):
    """month_of, remembered (a month of expenses has some thirty days): `months[day]`, a lookup in C once
    each day is known."""

    def __missing__(self, day: dt.date) -> dt.date:
        month = self[day] = month_of(day)
        return month


async def _ids(session: AsyncSession, query: Select[int, str]) -> dict[int, str]:
    return {key: name for key, name in (await session.execute(query)).all()}


async def employee_usual(
    session: AsyncSession, company_id: int, candidates: list[ReviewedExpense]
) -> dict[Key, Usual]:
    if not candidates:
        return {}
    first, last = _window(e.spent_on for e in candidates)
    # By ids, not by e-mail and code through joins: the (company, employee, spent_on) index then reads
    # these people's year and nothing else, where the joins scanned the whole company's year.
    emails = sorted({str(e.employee) for e in candidates})
    people = await _ids(
        session,
        select(Employee.id, Employee.email).where(
            Employee.company_id == company_id, Employee.email.in_(emails)
        ),
    )
    codes = sorted({str(e.category) for e in candidates})
    categories = await _ids(
        session,
        select(Category.id, Category.code).where(Category.company_id == company_id, Category.code.in_(codes)),
    )
    year = cast(extract("year", Expense.spent_on), Integer)
    month = cast(extract("month", Expense.spent_on), Integer)
    amount = Expense.amount_company_minor
    query = (
        select(
            Expense.employee_id,
            Expense.category_id,
            year,
            month,
            func.count(),
            func.sum(amount),
            func.max(amount),
        )
        .where(
            Expense.company_id == company_id,
            Expense.employee_id.in_(sorted(people)),
            Expense.spent_on.between(first, add_months(last, 1) - dt.timedelta(days=1)),
            amount > 0,
            Expense.category_id.in_(sorted(categories)),
        )
        .group_by(Expense.employee_id, Expense.category_id, year, month)
    )
    monthly: Monthly = defaultdict(dict)
    for person, category, y, m, count, total, largest in (await session.execute(query)).all():
        if person is None or category is None:  # never: the IN lists hold ids (for the type checker)
            continue
        key = (people[person], categories[category])
        monthly[key][dt.date(y, m, 1)] = Usual(int(count), int(total), int(largest))
    wanted = {(str(e.employee), str(e.category), month_of(e.spent_on)) for e in candidates}
    return _rolled(monthly, wanted)


async def merchant_usual(
    session: AsyncSession, company_id: int, candidates: list[ReviewedExpense]
) -> dict[tuple[int, dt.date], Usual]:
    """What each candidate's merchant usually charges the company (anyone, any category), 12 months back."""
    if not candidates:
        return {}
    first, last = _window(e.spent_on for e in candidates)
    year = cast(extract("year", Expense.spent_on), Integer)
    month = cast(extract("month", Expense.spent_on), Integer)
    amount = Expense.amount_company_minor
    query = (
        select(Expense.merchant_id, year, month, func.count(), func.sum(amount))
        .where(
            Expense.company_id == company_id,
            Expense.merchant_id.in_(sorted({e.merchant_id for e in candidates})),
            Expense.spent_on.between(first, add_months(last, 1) - dt.timedelta(days=1)),
            amount > 0,
        )
        .group_by(Expense.merchant_id, year, month)
    )
    monthly: Monthly = defaultdict(dict)
    for merchant_id, y, m, count, total in (await session.execute(query)).all():
        monthly[str(merchant_id), ""][dt.date(y, m, 1)] = Usual(int(count), int(total))
    wanted = {(str(e.merchant_id), "", month_of(e.spent_on)) for e in candidates}
    return {(int(who), month): usual for (who, _, month), usual in _rolled(monthly, wanted).items()}

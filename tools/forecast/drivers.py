"""What is pushing spend up: this period to date against the same stretch of the previous period and of
the same period a year earlier, in total and by category, merchant and employee.

The window arithmetic is pure; the SQL is one GROUP BY per dimension that sums all three windows at once
(CASE per window), so a comparison costs three round trips whatever the period."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from server.db.dimensions import DIMENSIONS
from server.db.models import Expense
from server.kit.money import format_amount
from tools.forecast.history import add_months
from tools.forecast.schemas import Comparison, Driver

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

UNCATEGORIZED = "Uncategorized"
DRIVER_DIMENSIONS = ("category", "merchant", "employee")
Against = Literal["previous_period", "same_period_last_year"]


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date  # inclusive


@dataclass(frozen=True)
class Windows:
    now: Window
    previous: Window  # the previous period of the same length, same stretch
    last_year: Window  # the same period a year earlier, same stretch


@dataclass(frozen=True)
class Sums:
    """One group's spend in each window, in minor units of the company currency."""

    key: str | None  # None: no category
    name: str
    now: int
    previous: int
    last_year: int


def whole_months(start: dt.date, end: dt.date) -> int | None:
    """How many calendar months the range is exactly (a month 1, a quarter 3, a year 12); else None."""
    if start.day != 1 or end.day != calendar.monthrange(end.year, end.month)[1]:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def previous_period(start: dt.date, end: dt.date) -> Window:
    """The period just before: the previous month, quarter or year by the calendar (months differ in
    length); for any other range, the range of the same number of days that ends the day before."""
    months = whole_months(start, end)
    if months is not None:
        return Window(add_months(start, -months), start - dt.timedelta(days=1))
    return Window(start - (end - start + dt.timedelta(days=1)), start - dt.timedelta(days=1))


def same_stretch(compared: Window, elapsed_days: int, period_over: bool) -> Window:
    """The first `elapsed_days` of the compared period, never past its end; once this period is over,
    all of it: a finished month is compared with the whole previous month, however long each was."""
    if period_over:
        return compared
    return Window(compared.start, min(compared.start + dt.timedelta(days=elapsed_days - 1), compared.end))


def year_earlier(day: dt.date) -> dt.date:
    return add_months(day, -12)  # Feb 29 → Feb 28


def compared_windows(start: dt.date, end: dt.date, as_of: dt.date) -> Windows | None:
    """None when the period has not started: nothing to compare yet."""
    if as_of < start:
        return None
    to_date = min(as_of, end)
    elapsed = (to_date - start).days + 1
    previous = same_stretch(previous_period(start, end), elapsed, as_of >= end)
    # A year back the calendar lines up, so the dates themselves shift (year to date to Mar 10 against
    # last year to Mar 10, whatever Feb 29 did in between).
    last_year = Window(year_earlier(start), year_earlier(to_date))
    return Windows(Window(start, to_date), previous, last_year)


def _in(window: Window) -> ColumnElement[bool]:
    return and_(Expense.spent_on >= window.start, Expense.spent_on <= window.end)


def _sum_in(window: Window) -> Any:
    return func.sum(case((_in(window), Expense.amount_company_minor), else_=0))


async def _sums(
    session: AsyncSession, conditions: list[ColumnElement[bool]], windows: Windows, dimension: str
) -> list[Sums]:
    found = DIMENSIONS[dimension]
    spans = (windows.now, windows.previous, windows.last_year)
    query = (
        select(found.key, found.label, *(_sum_in(window) for window in spans))
        .select_from(Expense)
        .outerjoin(found.table, found.on)
        .where(*conditions, or_(*(_in(window) for window in spans)))
        .group_by(*found.group_by)
    )
    rows = (await session.execute(query)).all()
    return [Sums(k, n if n is not None else UNCATEGORIZED, int(a), int(b), int(c)) for k, n, a, b, c in rows]


def top_drivers(rows: list[Sums], before: Callable[[Sums], int], currency: str, top: int) -> list[Driver]:
    """Largest absolute change first, ties by key (uncategorized last); unchanged groups push nothing."""
    changed = [row for row in rows if row.now != before(row)]
    changed.sort(key=lambda row: (-abs(row.now - before(row)), row.key is None, row.key or ""))
    return [
        Driver(
            key=row.key,
            name=row.name,
            now=format_amount(row.now, currency),
            before=format_amount(before(row), currency),
            change=format_amount(row.now - before(row), currency),
        )
        for row in changed[:top]
    ]


def comparison(
    against: Against, window: Window, by: dict[str, list[Sums]], currency: str, top: int
) -> Comparison:
    """`by` holds every dimension's sums; the category rows cover every expense, so they give the totals."""

    def before(row: Sums) -> int:
        return row.previous if against == "previous_period" else row.last_year

    now = sum(row.now for row in by["category"])
    then = sum(before(row) for row in by["category"])
    return Comparison(
        against=against,
        date_from=window.start,
        date_to=window.end,
        now=format_amount(now, currency),
        before=format_amount(then, currency),
        change=format_amount(now - then, currency),
        categories=top_drivers(by["category"], before, currency, top),
        merchants=top_drivers(by["merchant"], before, currency, top),
        employees=top_drivers(by["employee"], before, currency, top),
    )


async def comparisons(
    session: AsyncSession,
    company_id: int,
    team_id: int,
    category_id: int | None,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    currency: str,
    top: int = 5,
) -> list[Comparison]:
    """This period to date against the previous period and the same period last year; [] before it starts."""
    windows = compared_windows(start, end, as_of)
    if windows is None:
        return []
    conditions = [Expense.company_id == company_id, Expense.team_id == team_id]
    if category_id is not None:
        conditions.append(Expense.category_id == category_id)
    by = {dimension: await _sums(session, conditions, windows, dimension) for dimension in DRIVER_DIMENSIONS}
    compared = [comparison("previous_period", windows.previous, by, currency, top)]
    if windows.last_year != windows.previous:  # for a year, the previous period is last year
        compared.append(comparison("same_period_last_year", windows.last_year, by, currency, top))
    return compared

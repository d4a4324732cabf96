"""A budget scope's spending history as the forecast sees it: daily totals and the charges that may recur.

Amounts are integer minor units of the company currency throughout."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.forecast.calendar import CompanyDays
    from tools.forecast.recurring import Schedules


@dataclass(frozen=True)
class Charge:
    """One expense at a merchant that may bill on a schedule (a recurring-charge candidate)."""

    merchant_id: int
    merchant: str
    on: dt.date
    amount_minor: int


@dataclass(frozen=True)
class ScopeHistory:
    """Everything the forecast needs about one team (optionally one category) up to `as_of`."""

    # Spend by day, refunds netted. Older history may come summed by thirds of a month (keyed on the
    # 10th, the 20th and the month's end): every cut the engine makes (month ends, the 10th, the 20th,
    # a period's start, as read day by day) falls on those, so its totals stay exact.
    daily: dict[dt.date, int]
    first_day: dt.date  # since when the scope could have spent (first expense, or the history window)
    charges: tuple[Charge, ...] = ()  # at merchants that may recur, oldest first
    known_minor: int = 0  # approved requests not spent yet
    calendar: CompanyDays | None = None  # the company's days, whose pattern splits a month's total
    # The charges that are the only one at their merchant for the team in the window read (a one-off
    # purchase, or a yearly licence charged once so far): renewal.py looks for their anniversaries.
    singles: tuple[Charge, ...] = ()

    @cached_property
    def charges_by_merchant(self) -> dict[int, tuple[list[dt.date], list[Charge]]]:
        return by_merchant(self.charges)

    @cached_property
    def schedules(self) -> Schedules:
        """What recurring.detect found in each merchant's first k charges: kept with the history, which
        the calibration reads as of dozens of days."""
        return {}

    @property
    def first_full_month(self) -> int:
        """The month index of the first complete month (a history starting mid-month: the next one)."""
        return month_index(self.first_day) + (0 if self.first_day.day == 1 else 1)

    def until(self, as_of: dt.date) -> ScopeHistory:
        """The history as it stood at the end of `as_of` (for backtests)."""
        return ScopeHistory(
            daily={day: amount for day, amount in self.daily.items() if day <= as_of},
            first_day=self.first_day,
            charges=tuple(charge for charge in self.charges if charge.on <= as_of),
            known_minor=0,
            calendar=self.calendar,  # its profile as of a day reads only the months before
            singles=tuple(charge for charge in self.singles if charge.on <= as_of),
        )

    def total(self, start: dt.date, end: dt.date) -> int:
        """Spend from `start` to `end`: looked up day by day when that is shorter than the history (the
        calibration's and the evals' windows of a few weeks), else summed over it."""
        span = (end - start).days + 1
        if span < len(self.daily):
            return sum(self.daily.get(start + dt.timedelta(days=n), 0) for n in range(span))
        return sum(amount for day, amount in self.daily.items() if start <= day <= end)


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@cache  # the engine asks for the same few months thousands of times a calibration
def month_end(index: int) -> dt.date:
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def days_in_month(index: int) -> int:
    return month_end(index).day


def month_label(index: int) -> str:
    """'2026-03' for March 2026's index."""
    return f"{month_start(index):%Y-%m}"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), clamped to the month's last day (Mar 31 - 1 -> Feb 28)."""
    index = month_index(day) + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def by_merchant(charges: Iterable[Charge]) -> dict[int, tuple[list[dt.date], list[Charge]]]:
    """Charges per merchant, oldest first, with their dates alongside (to cut at any day by bisection:
    the backtests read the same history as of many days)."""
    grouped: dict[int, list[Charge]] = defaultdict(list)
    for charge in sorted(charges, key=lambda c: c.on):
        grouped[charge.merchant_id].append(charge)
    return {merchant: ([c.on for c in group], group) for merchant, group in grouped.items()}

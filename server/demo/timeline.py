"""Time for the demo: the window of months, seasonality, and the seeded random streams."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from dataclasses import dataclass

# Relative activity per calendar month (index 0 = January). Munich empties in August and from the
# 20th of December; March and October are the trade-fair and conference months.
SEASON = (0.95, 1.0, 1.12, 1.0, 1.0, 1.0, 0.9, 0.6, 1.05, 1.12, 1.05, 0.7)
TRAVEL_SEASON = (0.85, 1.0, 1.3, 1.05, 1.0, 1.0, 0.8, 0.45, 1.1, 1.3, 1.1, 0.55)
DAYS_PER_MONTH = 30.44  # to turn rates "per month" into rates over a span of days


def rng_for(seed: int, stream: str) -> random.Random:
    """An independent stream per stage, so that changing one stage leaves the others' output alone.

    String seeds are hashed with SHA-512 by `random`, so this is stable across runs and interpreters
    (unlike `hash()`, which PYTHONHASHSEED randomizes).
    """
    return random.Random(f"outlay-demo:{seed}:{stream}")


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: cheap for the small rates used here; a normal approximation above 30."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


@dataclass(frozen=True, slots=True)
class Month:
    index: int  # 0 for the first month of the window
    first: dt.date
    last: dt.date  # the month's last day, or `today` for the current month
    end: dt.date  # the month's last day, even in the current month (for what is booked ahead)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def day(self, offset: int) -> dt.date:
        return self.first + dt.timedelta(days=offset)


@dataclass(frozen=True, slots=True)
class Window:
    """The `months` calendar months ending with the month of `today`; nothing happens after `today`."""

    start: dt.date
    today: dt.date
    months: tuple[Month, ...]

    @classmethod
    def ending(cls, today: dt.date, months: int) -> Window:
        start = add_months(today.replace(day=1), -(months - 1))
        spans = []
        for index in range(months):
            first = add_months(start, index)
            end = add_months(first, 1) - dt.timedelta(days=1)
            spans.append(Month(index, first, min(today, end), end))
        return cls(start, today, tuple(spans))

    def month_index(self, day: dt.date) -> int:
        return (day.year - self.start.year) * 12 + day.month - self.start.month

"""Committed spend: charges that recur on a schedule (subscriptions, licences, retainers).

A merchant is billing on a schedule when its charges come at a regular cadence (weekly, monthly,
quarterly or yearly), once per cycle, for an amount that moves little from one charge to the next, and
the last one is recent enough that the next is still due. Those series are projected forward on their
own dates; everything else is variable spend, forecast statistically."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tools.forecast.history import Charge, add_months

Cadence = Literal["weekly", "monthly", "quarterly", "yearly"]

# cadence -> (typical gap in days, tolerated gap range, charges needed to believe it)
_CADENCES: dict[Cadence, tuple[int, tuple[int, int], int]] = {
    "weekly": (7, (6, 8), 6),
    "monthly": (30, (26, 35), 3),
    "quarterly": (91, (84, 98), 3),
    "yearly": (365, (350, 380), 2),
}
_AMOUNT_STEP = 0.15  # median change between consecutive charges: seat counts and usage plans move a little
_REGULAR_SHARE = 0.75  # share of gaps that must fit the cadence
_OVERDUE_CYCLES = 1.5  # a series whose next charge is this late has stopped
# Plans at one merchant are looked for when it charges the team at most this often (a few plans and a
# few one-off purchases a month); a merchant charging more is a shop, not a vendor of plans, and
# splitting its hundreds of charges by amount would cost more than the whole forecast.
_PLANS_PER_MONTH = 4


@dataclass(frozen=True)
class Recurring:
    merchant_id: int
    merchant: str
    cadence: Cadence
    amount_minor: int  # what the next charge is expected to be: median of the last three
    last: dt.date
    charges: tuple[Charge, ...]

    def next_dates(self, after: dt.date, until: dt.date) -> list[dt.date]:
        """Projected charge dates in (after, until]."""
        dates: list[dt.date] = []
        step = 1
        while True:
            day = self._nth(step)
            step += 1
            if day > until:
                return dates
            if day > after:
                dates.append(day)

    def _nth(self, step: int) -> dt.date:
        if self.cadence == "weekly":
            return self.last + dt.timedelta(days=7 * step)
        months = {"monthly": 1, "quarterly": 3, "yearly": 12}[self.cadence]
        return add_months(self.last, months * step)


# What a merchant's first k charges make, whatever the day it is read on: the series they form as a whole
# and, when they are few enough to be plans, each plan's. Keyed (merchant, k): the calibration reads one
# history as of dozens of days, and its charges change only when a new one comes.
Schedules = dict[tuple[int, int], tuple["Recurring | None", list["Recurring | None"]]]


def detect(
    grouped: Mapping[int, tuple[list[dt.date], list[Charge]]],
    as_of: dt.date,
    memo: Schedules | None = None,
) -> list[Recurring]:
    """The recurring series among the charges (`by_merchant`) that are still running at `as_of`: a
    merchant's charges as one series, else each of its amount clusters (two plans of one vendor). `memo`
    keeps each merchant's schedules between calls on the same charges."""
    memo = {} if memo is None else memo
    found: list[Recurring] = []
    for merchant, (dates, group) in grouped.items():
        count = bisect_right(dates, as_of)
        if (merchant, count) not in memo:
            memo[merchant, count] = _schedules(group[:count])
        whole, plans = memo[merchant, count]
        if whole is not None and _running(whole, as_of):
            found.append(whole)
        else:  # no series as a whole, or a stopped one: its plans (none unless its charges are few)
            found.extend(plan for plan in plans if plan is not None and _running(plan, as_of))
    return sorted(found, key=lambda s: -s.amount_minor)


def _schedules(charges: Sequence[Charge]) -> tuple[Recurring | None, list[Recurring | None]]:
    """The series the charges make as a whole, and each plan's when they are few (see `_few`)."""
    plans = [_series(plan) for plan in amount_clusters(charges)] if _few(charges) else []
    return _series(charges), plans


def _running(series: Recurring, as_of: dt.date) -> bool:
    """Not stopped: the next charge is no more than _OVERDUE_CYCLES late at `as_of`."""
    typical, _, _ = _CADENCES[series.cadence]
    return (as_of - series.last).days <= typical * _OVERDUE_CYCLES


def _few(charges: Sequence[Charge]) -> bool:
    """Enough charges for two plans (two yearly ones: four), not so many that it is a shop."""
    months = max((charges[-1].on - charges[0].on).days / 30.4, 1.0) if charges else 1.0
    return 4 <= len(charges) <= _PLANS_PER_MONTH * months


def amount_clusters(charges: Sequence[Charge]) -> list[list[Charge]]:
    """Charges split into plans by amount: sorted by amount, a new plan starts where the next amount is
    more than the step a plan may move from one charge to the next above the last (a bill that grows a
    few percent a month stays one chain). Each plan oldest first; only plans charged twice or more, and
    none when the merchant's charges are all one plan."""
    ordered = sorted((charge for charge in charges if charge.amount_minor > 0), key=lambda c: c.amount_minor)
    plans: list[list[Charge]] = []
    for charge in ordered:
        if plans and charge.amount_minor <= plans[-1][-1].amount_minor * (1 + _AMOUNT_STEP):
            plans[-1].append(charge)
        else:
            plans.append([charge])
    if len(plans) < 2:
        return []
    return [sorted(plan, key=lambda c: c.on) for plan in plans if len(plan) >= 2]


def _series(charges: Sequence[Charge]) -> Recurring | None:
    """The charges as one series on a schedule, if they are one (running or not)."""
    if len(charges) < 2 or min(charge.amount_minor for charge in charges) <= 0:
        return None
    gaps = [(later.on - earlier.on).days for earlier, later in itertools.pairwise(charges)]
    cadence = _cadence(gaps, len(charges))
    if cadence is None:
        return None
    amounts = [charge.amount_minor for charge in charges]
    # Stable from one charge to the next, not over the whole life: a cloud bill that doubled over two
    # years, a few percent a month, is still one bill.
    steps = [abs(later - earlier) / earlier for earlier, later in itertools.pairwise(amounts)]
    if statistics.median(steps) > _AMOUNT_STEP:
        return None
    return Recurring(
        merchant_id=charges[0].merchant_id,
        merchant=charges[0].merchant,
        cadence=cadence,
        amount_minor=round(statistics.median(amounts[-3:])),
        last=charges[-1].on,
        charges=tuple(charges),
    )


def _cadence(gaps: Sequence[int], count: int) -> Cadence | None:
    median_gap = statistics.median(gaps)
    for cadence, (_, (low, high), needed) in _CADENCES.items():
        if count >= needed and low <= median_gap <= high:
            regular = sum(low <= gap <= high for gap in gaps)
            return cadence if regular >= _REGULAR_SHARE * len(gaps) else None
    return None


def recurring_on(series: Sequence[Recurring]) -> dict[dt.date, int]:
    """What the detected series actually charged, by day (to take out of the variable history)."""
    charged: dict[dt.date, int] = defaultdict(int)
    for one in series:
        for charge in one.charges:
            charged[charge.on] += charge.amount_minor
    return charged

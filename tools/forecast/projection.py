"""One budget's outlook: the engine's expectation turned into totals, intervals, an overrun probability
and date, and the month-by-month path (all in minor units; the service formats them)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from tools.forecast.engine import Calibration, Expectation, Snapshot, expect, fit_for, snapshot
from tools.forecast.history import ScopeHistory, month_end, month_index, month_start
from tools.forecast.model import MonthlyForecast
from tools.forecast.schemas import Outlook

LEVELS = (0.80, 0.95)
LIKELY_OVER, AT_RISK = 0.5, 0.2


@dataclass(frozen=True)
class MonthPath:
    index: int
    actual: int
    expected: int
    interval_80: tuple[int, int] | None  # None: the month is over


@dataclass(frozen=True)
class Projection:
    start: dt.date
    end: dt.date
    as_of: dt.date
    budget: int | None
    spent: int
    known: int
    committed: int
    variable: int
    expected: int
    intervals: dict[float, tuple[int, int]]
    probability: float | None
    overrun_date: dt.date | None
    months: list[MonthPath]
    snapshot: Snapshot
    fit: MonthlyForecast | None
    calibration: Calibration

    @property
    def closed(self) -> bool:
        return self.as_of >= self.end

    @property
    def outlook(self) -> Outlook:
        if self.budget is None:
            return "no_budget"
        if self.spent > self.budget:
            return "over_budget"
        if self.closed:
            return "closed"
        probability = self.probability or 0.0
        return (
            "likely_over"
            if probability >= LIKELY_OVER
            else "at_risk"
            if probability >= AT_RISK
            else "on_track"
        )


def project(
    history: ScopeHistory,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    budget: int | None,
    calibration: Calibration,
) -> Projection:
    snap = snapshot(history, as_of)
    spent = history.total(start, min(as_of, end))
    if as_of >= end:
        return _closed(history, snap, start, end, as_of, budget, spent, calibration)
    fit = fit_for(snap, end, dispersion=calibration.dispersion)
    expectation = expect(snap, fit, start, end)
    # Approved requests are about to be spent: they count in the period running now, not in later ones.
    known = history.known_minor if start <= as_of else 0
    base = spent + known + expectation.committed_minor
    floor = spent + known  # spend cannot be undone (refunds aside)
    expected = base + round(expectation.variable)

    def total_at(q: float) -> int:
        error = calibration.quantile(q, expectation.where)
        return max(floor, round(base + expectation.variable + error * expectation.scale))

    intervals = {level: (total_at((1 - level) / 2), total_at((1 + level) / 2)) for level in LEVELS}
    probability = None
    if budget is not None:
        gap = budget - base - expectation.variable
        probability = (
            calibration.exceedance(gap / expectation.scale, expectation.where)
            if expectation.scale > 0
            else float(gap < 0)
        )
    return Projection(
        start=start,
        end=end,
        as_of=as_of,
        budget=budget,
        spent=spent,
        known=known,
        committed=expectation.committed_minor,
        variable=round(expectation.variable),
        expected=expected,
        intervals=intervals,
        probability=probability,
        overrun_date=_overrun_date(history, expectation, start, as_of, budget, known, end),
        months=_months(history, expectation, calibration, start, end, as_of, known),
        snapshot=snap,
        fit=fit,
        calibration=calibration,
    )


def _closed(
    history: ScopeHistory,
    snap: Snapshot,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    budget: int | None,
    spent: int,
    calibration: Calibration,
) -> Projection:
    months = [
        MonthPath(index, actual, actual, None)
        for index in range(month_index(start), month_index(end) + 1)
        for actual in [history.total(max(start, month_start(index)), min(end, month_end(index)))]
    ]
    return Projection(
        start=start,
        end=end,
        as_of=as_of,
        budget=budget,
        spent=spent,
        known=0,
        committed=0,
        variable=0,
        expected=spent,
        intervals={level: (spent, spent) for level in LEVELS},
        probability=None if budget is None else float(spent > budget),
        overrun_date=_overrun_date(history, None, start, as_of, budget, 0, end),
        months=months,
        snapshot=snap,
        fit=None,
        calibration=calibration,
    )


def _months(
    history: ScopeHistory,
    expectation: Expectation,
    calibration: Calibration,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    known: int,
) -> list[MonthPath]:
    shares = {share.index: share for share in expectation.months}
    remaining_days = sum(share.days for share in expectation.months) or 1
    sigma = expectation.scale / math.sqrt(expectation.load or 1.0)
    path = []
    for index in range(month_index(start), month_index(end) + 1):
        first, last = max(start, month_start(index)), min(end, month_end(index))
        actual = history.total(first, min(last, as_of))
        share = shares.get(index)
        if share is None:
            path.append(MonthPath(index, actual, actual, None))
            continue
        committed = sum(amount for day, amount in expectation.committed.items() if first <= day <= last)
        # Approved requests have no date: spread them over the days still to come.
        coming = actual + committed + share.variable + known * share.days / remaining_days
        width = sigma * math.sqrt(share.load)
        where = expectation.where.at(share.load)
        low, high = calibration.quantile(0.10, where), calibration.quantile(0.90, where)
        interval = (max(actual, round(coming + low * width)), round(coming + high * width))
        path.append(MonthPath(index, actual, round(coming), interval))
    return path


def _overrun_date(
    history: ScopeHistory,
    expectation: Expectation | None,
    start: dt.date,
    as_of: dt.date,
    budget: int | None,
    known: int,
    end: dt.date,
) -> dt.date | None:
    """The first day the running total passes the budget: in the actuals, else along the expected path."""
    if budget is None:
        return None
    running = 0.0
    day = start
    while day <= min(as_of, end):
        running += history.daily.get(day, 0)
        if running > budget:
            return day
        day += dt.timedelta(days=1)
    if expectation is None:
        return None
    rates = {share.index: share.variable / share.days for share in expectation.months if share.days}
    days_left = sum(share.days for share in expectation.months) or 1
    while day <= end:
        running += rates.get(month_index(day), 0.0) + expectation.committed.get(day, 0) + known / days_left
        if running > budget:
            return day
        day += dt.timedelta(days=1)
    return None

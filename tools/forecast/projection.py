"""One budget's outlook: the engine's expectation turned into totals, intervals, an overrun probability
and date, and the month-by-month path (all in minor units; the service formats them)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from tools.forecast.calendar import Profile
from tools.forecast.engine import Calibration, Expectation, Snapshot, expect, fit_for, snapshot
from tools.forecast.history import ScopeHistory, month_end, month_index, month_start
from tools.forecast.model import MonthlyForecast
from tools.forecast.renewal import Renewal, expected_renewals
from tools.forecast.schemas import Outlook

LEVELS = (0.80, 0.95)
LIKELY_OVER, AT_RISK = 0.5, 0.2
# A renewal may come or not: the total's distribution is a mixture, one calibrated error distribution per
# outcome. The largest RENEWALS_ENUMERATED renewals each make two outcomes; further ones (rare) count at
# their expected amount. The mixture's quantiles are read off GRID quantiles of each outcome's errors.
RENEWALS_ENUMERATED = 3
GRID = 200


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
    renewals: tuple[Renewal, ...] = ()  # once-seen charges whose anniversary falls in the days to come

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
    fit = fit_for(snap, end, dispersion=calibration.dispersion, level=calibration.level)
    expectation = expect(snap, fit, start, end)
    renewals = expected_renewals(history, as_of, start, end, snap.recurring, calibration.renewal)
    if renewals:  # each counts at its chance in the committed spend, on its anniversary
        committed = dict(expectation.committed)
        for renewal in renewals:
            committed[renewal.on] = committed.get(renewal.on, 0) + round(
                renewal.probability * renewal.amount_minor
            )
        expectation = replace(expectation, committed=committed)
    # Approved requests are about to be spent: they count in the period running now, not in later ones.
    known = history.known_minor if start <= as_of else 0
    base = spent + known + expectation.committed_minor
    floor = spent + known  # spend cannot be undone (refunds aside)
    expected = base + round(expectation.variable)
    expected_days, known_days = _days_to_come(expectation, snap.profile, start, end, as_of, known)
    outcomes = _outcomes(renewals)
    mixture = _mixture(calibration, expectation, outcomes) if len(outcomes) > 1 else None

    def total_at(q: float) -> int:
        if mixture is not None:
            values, cumulative = mixture
            error = float(values[min(int(np.searchsorted(cumulative, q)), len(values) - 1)])
            return max(floor, round(base + expectation.variable + error))
        error = calibration.quantile(q, expectation.where)
        return max(floor, round(base + expectation.variable + error * expectation.scale))

    intervals = {level: (total_at((1 - level) / 2), total_at((1 + level) / 2)) for level in LEVELS}
    probability = None
    if budget is not None:
        gap = budget - base - expectation.variable
        probability = sum(
            weight
            * (
                calibration.exceedance((gap - shift) / expectation.scale, expectation.where)
                if expectation.scale > 0
                else float(gap - shift < 0)
            )
            for weight, shift in outcomes
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
        overrun_date=_overrun_date(history, start, end, as_of, budget, _plus(expected_days, known_days)),
        months=_months(history, expectation, calibration, start, end, as_of, known_days),
        snapshot=snap,
        fit=fit,
        calibration=calibration,
        renewals=tuple(renewals),
    )


def _outcomes(renewals: Sequence[Renewal]) -> list[tuple[float, float]]:
    """(chance, amount above the expected renewals) of each way the renewals may go: one outcome, 0,
    when there are none."""
    ordered = sorted(renewals, key=lambda renewal: -renewal.amount_minor)
    mean = sum(round(renewal.probability * renewal.amount_minor) for renewal in ordered)
    outcomes = [(1.0, sum(r.probability * r.amount_minor for r in ordered[RENEWALS_ENUMERATED:]) - mean)]
    for renewal in ordered[:RENEWALS_ENUMERATED]:
        p, amount = renewal.probability, renewal.amount_minor
        outcomes = [(w * (1 - p), shift) for w, shift in outcomes] + [
            (w * p, shift + amount) for w, shift in outcomes
        ]
    return outcomes


def _mixture(
    calibration: Calibration, expectation: Expectation, outcomes: Sequence[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """The remaining total's error (in minor units, about the expected total) as a mixture: each
    outcome's shift plus the calibrated errors (GRID quantiles of them) times the forecast's scale.
    Sorted values and their cumulative chance."""
    grid = np.asarray(
        [calibration.quantile((n + 0.5) / GRID, expectation.where) for n in range(GRID)], dtype=np.float64
    )
    values = np.concatenate([shift + grid * expectation.scale for _, shift in outcomes])
    weights = np.concatenate([np.full(GRID, weight / GRID) for weight, _ in outcomes])
    order = np.argsort(values, kind="stable")
    return values[order], np.cumsum(weights[order])


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
        overrun_date=_overrun_date(history, start, end, as_of, budget, {}),
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
    known: dict[dt.date, float],
) -> list[MonthPath]:
    shares = {share.index: share for share in expectation.months}
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
        requested = sum(amount for day, amount in known.items() if first <= day <= last)
        coming = actual + committed + share.variable + requested
        width = sigma * math.sqrt(share.load)
        where = expectation.where.at(share.load)
        low, high = calibration.quantile(0.10, where), calibration.quantile(0.90, where)
        interval = (max(actual, round(coming + low * width)), round(coming + high * width))
        path.append(MonthPath(index, actual, round(coming), interval))
    return path


def _overrun_date(
    history: ScopeHistory,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    budget: int | None,
    coming: dict[dt.date, float],
) -> dt.date | None:
    """The first day the running total passes the budget: in the actuals, else along the expected path
    (`coming`: the expected spend of each day still to come)."""
    if budget is None:
        return None
    running = 0.0
    day = start
    while day <= end:
        running += history.daily.get(day, 0) if day <= as_of else coming.get(day, 0.0)
        if running > budget:
            return day
        day += dt.timedelta(days=1)
    return None


def _days_to_come(
    expectation: Expectation, profile: Profile, start: dt.date, end: dt.date, as_of: dt.date, known: int
) -> tuple[dict[dt.date, float], dict[dt.date, float]]:
    """The expected spend of each day from max(start, as_of + 1) to `end` (variable and committed), and
    the approved requests', which have no date: both fall over the days as the company's spend does."""
    first = max(start, as_of + dt.timedelta(days=1))
    weights = {
        day: profile.weight(day)
        for day in (first + dt.timedelta(days=n) for n in range((end - first).days + 1))
    }
    expected = {day: float(amount) for day, amount in expectation.committed.items()}
    for share in expectation.months:
        in_month = {day: weight for day, weight in weights.items() if month_index(day) == share.index}
        for day, amount in _spread(share.variable, in_month).items():
            expected[day] = expected.get(day, 0.0) + amount
    return expected, _spread(known, weights)


def _spread(total: float, weights: dict[dt.date, float]) -> dict[dt.date, float]:
    """`total` over the days of `weights`, in proportion to them (evenly when they are all nil)."""
    whole = sum(weights.values())
    if whole <= 0:
        return {day: total / len(weights) for day in weights}
    return {day: total * weight / whole for day, weight in weights.items()}


def _plus(one: dict[dt.date, float], other: dict[dt.date, float]) -> dict[dt.date, float]:
    return {day: one.get(day, 0.0) + other.get(day, 0.0) for day in one.keys() | other.keys()}

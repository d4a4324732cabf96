"""Ended budget periods replayed from every 10th day: what `forecast_budget` would have said about the
period total on each of those days, and what the naive baselines would have said.

A period is forecast from the day before it starts and then every `ORIGIN_STEP` days (a quarter: days
0, 10, ..., 90 gone), each forecast with the calibration the service would have computed that day.
Each forecast lands in an origin bucket by the share of the period gone: early (the first third),
middle, late. The baselines forecast the same total as spent so far plus the rest of the period from:

- naive: the last complete month, spread over its days;
- snaive: last year's same days (for a quarter: last year's same quarter, less what is already spent);
- naive2: M4's naive2 of the monthly totals, spread over the days of each month still to come.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from evals.forecast_metrics import Floats, naive, naive2
from tools.forecast.engine import HISTORY_MONTHS, Calibration, calibrate_scopes
from tools.forecast.history import (
    ScopeHistory,
    add_months,
    days_in_month,
    month_end,
    month_index,
    month_start,
)
from tools.forecast.projection import project
from tools.forecast.queries import Scope

ORIGIN_STEP = 10  # days between two forecasts of one period
BUCKETS = ("early", "middle", "late")  # the first, middle and last third of the period gone
INSAMPLE_MONTHS = HISTORY_MONTHS  # complete months the baselines see at most: what the model sees
ONE_DAY = dt.timedelta(days=1)


@dataclass
class Timings:
    """Milliseconds per engine call, by call name."""

    calls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, started: float) -> None:
        self.calls[name].append((time.perf_counter() - started) * 1000)


@dataclass(frozen=True)
class Period:
    """One ended budget period of one series."""

    scope: Scope
    kind: str  # team | team+category
    shape: str  # the series type: seasonal, trend, ...
    start: dt.date
    end: dt.date
    budget: int


@dataclass(frozen=True)
class Outcome:
    """One ended budget period forecast from one day."""

    bucket: str
    kind: str
    shape: str
    days_gone: int
    inside_80: bool
    inside_95: bool
    probability: float
    over: bool
    actual: int
    expected: int
    baselines: dict[str, float | None]  # the naive forecasts of the total; None where undefined


@dataclass(frozen=True)
class Calibrations:
    """`calibrate_scopes` as the service would have run it on a day, once per day. A series whose data
    ends before that day (a team renamed in a reorganisation) is left out: its silence is not spend."""

    teams: Sequence[tuple[ScopeHistory, dt.date]]  # each history and the last day its data is complete
    categories: Sequence[tuple[ScopeHistory, dt.date]]
    timings: Timings
    found: dict[dt.date, tuple[Calibration, Calibration]] = field(default_factory=dict)

    def on(self, as_of: dt.date, kind: str) -> Calibration:
        if as_of not in self.found:
            teams, categories = _alive(self.teams, as_of), _alive(self.categories, as_of)
            started = time.perf_counter()
            self.found[as_of] = calibrate_scopes(teams, categories, as_of)
            self.timings.add("calibrate", started)
        for_teams, for_categories = self.found[as_of]
        return for_teams if kind == "team" else for_categories


def _alive(histories: Iterable[tuple[ScopeHistory, dt.date]], as_of: dt.date) -> list[ScopeHistory]:
    return [history.until(as_of) for history, last in histories if last >= as_of]


def bucket_of(days_gone: int, length: int) -> str:
    return BUCKETS[min(len(BUCKETS) - 1, len(BUCKETS) * days_gone // length)]


def as_of_days(start: dt.date, end: dt.date) -> list[tuple[int, dt.date]]:
    """(days gone, as-of day): the day before the start, then every ORIGIN_STEP days until the end."""
    eve = start - ONE_DAY
    return [(gone, eve + dt.timedelta(days=gone)) for gone in range(0, (end - start).days + 1, ORIGIN_STEP)]


def month_sums(history: ScopeHistory) -> dict[int, int]:
    """Spend per month index, in one pass (the backtests read many months of many histories)."""
    found: dict[int, int] = defaultdict(int)
    for day, amount in history.daily.items():
        found[month_index(day)] += amount
    return found


def monthly_totals(sums: dict[int, int], first: int, last: int) -> Floats:
    return np.asarray([sums.get(index, 0) for index in range(first, last + 1)], dtype=np.float64)


def period_outcomes(
    periods: Sequence[Period],
    histories: dict[Scope, ScopeHistory],
    calibrations: Calibrations,
) -> list[Outcome]:
    """Each period forecast from each of its as-of days, as forecast_budget would have on those days."""
    outcomes = []
    for period in periods:
        history = histories[period.scope]
        sums = month_sums(history)
        actual = history.total(period.start, period.end)
        length = (period.end - period.start).days + 1
        for gone, as_of in as_of_days(period.start, period.end):
            calibration = calibrations.on(as_of, period.kind)
            started = time.perf_counter()
            projection = project(
                history.until(as_of), period.start, period.end, as_of, period.budget, calibration
            )
            calibrations.timings.add("project", started)
            (low_80, high_80), (low_95, high_95) = projection.intervals[0.80], projection.intervals[0.95]
            outcomes.append(
                Outcome(
                    bucket=bucket_of(gone, length),
                    kind=period.kind,
                    shape=period.shape,
                    days_gone=gone,
                    inside_80=low_80 <= actual <= high_80,
                    inside_95=low_95 <= actual <= high_95,
                    probability=projection.probability or 0.0,
                    over=actual > period.budget,
                    actual=actual,
                    expected=projection.expected,
                    baselines=naive_totals(history, sums, period, as_of),
                )
            )
    return outcomes


def naive_totals(
    history: ScopeHistory, sums: dict[int, int], period: Period, as_of: dt.date
) -> dict[str, float | None]:
    """The baselines' forecasts of the period total as of `as_of` (before the period ends)."""
    first = max(period.start, as_of + ONE_DAY)
    spent = history.total(period.start, as_of)
    origin = month_index(as_of + ONE_DAY)  # the month holding the next day; complete months before it
    low = max(history.first_full_month, origin - INSAMPLE_MONTHS)
    insample = monthly_totals(sums, low, origin - 1)
    shares = [
        (index - origin, _days_inside(index, first, period.end) / days_in_month(index))
        for index in range(month_index(first), month_index(period.end) + 1)
    ]
    horizon = shares[-1][0] + 1
    found: dict[str, float | None] = {"naive": None, "snaive": None, "naive2": None}
    if len(insample):
        for name, monthly in (
            ("naive", naive(insample, horizon)),
            ("naive2", naive2(insample, horizon).forecast),
        ):
            found[name] = spent + sum(float(monthly[step]) * share for step, share in shares)
    year_ago = add_months(first, -12)
    if year_ago >= history.first_day:
        found["snaive"] = float(spent + history.total(year_ago, add_months(period.end, -12)))
    return found


def _days_inside(index: int, first: dt.date, last: dt.date) -> int:
    return (min(last, month_end(index)) - max(first, month_start(index))).days + 1

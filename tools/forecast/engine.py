"""The period-end forecast of one budget scope: spent + known + committed + variable, with calibrated
uncertainty.

- spent: actual spend from the period start through `as_of`;
- known: approved purchase requests not spent yet;
- committed: the recurring series (recurring.py) projected on their own dates to the period end;
- variable: the rest, from the monthly model (model.py) with the current month's run rate folded in:
  what is spent so far, and for the days to come the model's month and the month the month-to-date
  rate points to (by the company's calendar, calendar.py), each weighted by the other's variance.

Uncertainty is conformal: `calibrate` replays the same forecast from past dates over the company's team
histories (rolling origins) and keeps the errors, each divided by the forecast's own scale (the model's
monthly noise times the square root of the months still to come), by bucket (`Where`). The intervals
and the overrun probability are read off the same errors, so a 30% overrun probability and the 80%
interval are two views of the same forecast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import stdtrit  # type: ignore[import-untyped]

from tools.forecast.calendar import LUMP, UNIFORM, Profile
from tools.forecast.history import (
    ScopeHistory,
    days_in_month,
    month_end,
    month_index,
    month_start,
)
from tools.forecast.model import MODEL_FROM, ModelName, MonthlyForecast, forecast_months
from tools.forecast.recurring import Recurring, detect, recurring_on
from tools.forecast.renewal import RenewalRate, renewal_rate

HISTORY_MONTHS = 36  # what the model sees at most
BACKTEST_ORIGINS = 6  # months replayed per team to calibrate
BACKTEST_DAYS = (0, 10, 20)  # days into a month a backtest forecast is made on
BACKTEST_SPANS = (1, 2, 3)  # months a backtest window runs (to a month end)
MIN_BACKTESTS = 30  # fewer errors than this: fall back to a Student t on the model's noise
CALIBRATION_SERIES = 18  # team histories replayed at most, spread over the company (<= 144 errors each)
DEFAULT_MODEL: ModelName = "theta"


# Errors are kept apart (Mondrian conformal prediction) by what they depend on: how many months are still
# to come (up to one, up to two, more: a drifting trend makes errors grow faster than the square root of
# the horizon), how much of the current month is gone (under 30%, under 60%, more: the run rate weighs
# more as it goes, and the last weeks' lumps do not average out), whether the history is short (fewer
# than SHORT_MONTHS complete months: the level itself is uncertain) and whether the spend is
# intermittent (a dense team's errors, pooled with them, were too narrow for it), or a dense model's days
# forecast to get nothing (quiet: errors all on the upside, which moved intermittent spend's own).
# docs/forecasting.md: "Days a scope is unlikely to spend on".
LOAD_BUCKETS = (1.0, 2.0)
POSITION_BUCKETS = (0.3, 0.6)  # of the current month gone: the replays cut on month ends, the 10th, the 20th
SHORT_MONTHS = 3  # fewer complete months than this: a short history
MIN_BUCKET = 30  # a bucket with fewer errors falls back to a coarser one, then to the pooled errors
MIN_BUCKET_SERIES = 2  # ... and so does one whose errors come from fewer histories (not exchangeable)
PRIOR_MONTHS = 6  # weight, in months, of the company's pooled dispersion in a short history's noise
FALLBACK_DOF = 3  # degrees of freedom of the Student t used when a company has too little to replay
FINITE_TAIL = 0.05  # quantiles further out than this take the finite-sample (conformal) position
DEFAULT_DISPERSION = 0.25  # one-month noise / level when the company has nothing to pool
# The days still to come get no variable spend when the scope is more likely than not to spend nothing
# on them (the typical outcome, as the monthly model's point forecast is): the chance of an empty
# stretch of days is that of an empty third of a month over the last QUIET_THIRDS complete thirds
# (smoothed), to the power of the stretch's weighted days over a third's. Thirds, not days: older
# history may come summed by thirds (ScopeHistory.daily), and the calibration replays read it so.
QUIET_THIRDS = 36
THIRD_DAYS = 365.25 / 36


@dataclass(frozen=True)
class Where:
    """Where a forecast stands: months still to come, share of the period gone, short history, and
    whether the spend is intermittent (its forecast is the typical month, nothing or little, and its
    noise the spread of all months: errors of another shape than a dense team's), and whether a dense
    model's days were forecast to get nothing (quiet: errors only on the upside, a kind of their own)."""

    load: float
    position: float = 0.0
    short: bool = False
    intermittent: bool = False
    quiet: bool = False  # a dense scope's days forecast to have no variable spend (expect)

    def buckets(self) -> tuple[tuple[int, ...], ...]:
        """Finest bucket first."""
        load = sum(self.load > edge for edge in LOAD_BUCKETS)
        position = sum(self.position >= edge for edge in POSITION_BUCKETS)
        kind = (int(self.short), 2 if self.quiet else int(self.intermittent))
        return (*kind, load, position), (*kind, load), kind, (int(self.short),)

    def at(self, load: float) -> Where:
        return Where(load, self.position, self.short, self.intermittent, self.quiet)


@dataclass(frozen=True)
class Calibration:
    """Normalized backtest errors (actual - forecast) / scale, sorted, pooled and per bucket (Where)."""

    errors: np.ndarray
    backtests: int
    series: int
    buckets: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)
    dispersion: float = DEFAULT_DISPERSION  # the company's typical one-month noise / level
    level: float = 0.0  # the company's typical month of variable spend (0: unknown)
    renewal: RenewalRate = field(
        default_factory=RenewalRate
    )  # how often the company's once-seen large charges renewed

    @classmethod
    def student_t(cls, dispersion: float = DEFAULT_DISPERSION, level: float = 0.0) -> Calibration:
        # A Student t on FALLBACK_DOF degrees of freedom drawn as evenly spaced quantiles: the model-based
        # interval when a company has too little history to replay. Its noise is read off a few months, so
        # a normal's tails were too thin (the synthetic company's first quarters: 56% inside the 80%).
        # (scipy.special's t quantile, not scipy.stats': the same numbers without 0.5 s of imports on the
        # first forecast of a process)
        errors = stdtrit(FALLBACK_DOF, (np.arange(1, 400) - 0.5) / 399)
        return cls(
            errors=np.asarray(errors, dtype=np.float64),
            backtests=0,
            series=0,
            dispersion=dispersion,
            level=level,
        )

    @classmethod
    def of(
        cls,
        samples: Sequence[tuple[float, Where]],
        series: int,
        dispersion: float,
        sources: Sequence[int] = (),
        level: float = 0.0,
    ) -> Calibration:
        """`sources`, when given, names the history each sample was replayed from."""
        if len(samples) < MIN_BACKTESTS:
            return cls.student_t(dispersion, level)
        grouped: dict[tuple[int, ...], list[float]] = {}
        origins: dict[tuple[int, ...], set[int]] = {}
        for n, (error, where) in enumerate(samples):
            for key in where.buckets():
                grouped.setdefault(key, []).append(error)
                if sources:
                    origins.setdefault(key, set()).add(sources[n])
        return cls(
            errors=np.sort([error for error, _ in samples]),
            backtests=len(samples),
            series=series,
            buckets={
                key: np.sort(errors)
                for key, errors in grouped.items()
                if len(errors) >= MIN_BUCKET and (not sources or len(origins[key]) >= MIN_BUCKET_SERIES)
            },
            dispersion=dispersion,
            level=level,
        )

    @property
    def calibrated(self) -> bool:
        return self.backtests > 0

    def errors_at(self, where: Where) -> np.ndarray:
        return next((self.buckets[key] for key in where.buckets() if key in self.buckets), self.errors)

    def quantile(self, q: float, where: Where) -> float:
        """The q-quantile of the bucket's errors. In the tails (the 95% interval's ends) at the finite-sample
        plotting position q (n + 1) of the n sorted errors, the split-conformal rank interpolated: a
        plain quantile of a bucket of 30-100 errors sits inside its largest ones and covered 86-88%
        where 95% was meant. The 80% interval keeps the plain quantile (the conformal rank pushed it over
        85% where buckets are small)."""
        tail = min(q, 1 - q)
        if tail < FINITE_TAIL:
            # The rank q (n + 1) exists only among n >= 1 / tail - 1 errors (39 for the 95% interval's
            # ends): a smaller bucket falls back to a coarser one, and the company's errors, when they are
            # too few as well, to the Student t a company with too little to replay gets.
            least = math.ceil(1 / tail - 1 - 1e-9)
            found = (self.buckets[key] for key in where.buckets() if len(self.buckets.get(key, ())) >= least)
            errors = next(found, self.errors if len(self.errors) >= least else _STUDENT_T)
            return float(np.quantile(errors, q, method="weibull"))
        return float(np.quantile(self.errors_at(where), q))

    def exceedance(self, threshold: float, where: Where) -> float:
        """Share of errors above `threshold`: P(actual - forecast > threshold * scale)."""
        errors = self.errors_at(where)
        above = len(errors) - np.searchsorted(errors, threshold, side="right")
        return float(above / len(errors))

    def describe(self) -> str:
        if not self.calibrated:
            return (
                "Student t (3 degrees of freedom) on the model's residuals "
                "(too little history to calibrate on backtests)"
            )
        return (
            f"conformal: {self.backtests} rolling-origin backtests over {self.series} "
            f"{'history' if self.series == 1 else 'histories'} of this company, by months still to come, "
            "share of the period gone, length of history and intermittent spend"
        )


_STUDENT_T = Calibration.student_t().errors


@dataclass(frozen=True)
class Snapshot:
    """A history read as of one day: what is recurring, the variable months, the current month so far."""

    as_of: dt.date
    recurring: list[Recurring]
    months: np.ndarray  # complete months of variable spend, oldest first, at most HISTORY_MONTHS
    origin: int  # month index of the month holding as_of + 1 day
    elapsed_days: int  # days of the origin month up to as_of
    month_to_date: int  # variable spend of the origin month up to as_of
    profile: Profile = UNIFORM  # how the company's spend falls over the days of a month
    quiet: float = 0.0  # chance that a third of a month has no variable spend (quiet_share)
    spread: float = math.inf  # of a third's spend around its share of its month's (run_evidence)
    typical_to_date: float = 0.0  # month_to_date with lumps counted as LUMP usual days (run_evidence)


def third_of(day: dt.date) -> int:
    """The index of the third of a month holding `day` (days 1-10, 11-20, 21 to the end)."""
    return month_index(day) * 3 + min((day.day - 1) // 10, 2)


def quiet_share(variable: dict[dt.date, int], first_day: dt.date, as_of: dt.date) -> float:
    """The share of the last QUIET_THIRDS complete thirds of a month (since `first_day`'s) with no
    variable spend, smoothed (half an empty third in one more): 0.5 / (n + 1) when every third had some."""
    last = third_of(as_of + dt.timedelta(days=1)) - 1
    first = max(last - QUIET_THIRDS + 1, third_of(first_day - dt.timedelta(days=1)) + 1)  # complete ones
    if last < first:
        return 0.0
    since = month_start(first // 3) + dt.timedelta(days=10 * (first % 3))  # the first third's first day
    sums: dict[int, int] = {}
    for day, amount in variable.items():  # third_of inlined: a calibration reads ~50,000 days
        if day >= since:
            third = (day.year * 12 + day.month - 1) * 3 + (2 if day.day > 20 else day.day > 10)
            if third <= last:
                sums[third] = sums.get(third, 0) + amount
    count = last - first + 1
    empty = count - sum(1 for total in sums.values() if total > 0)
    return (empty + 0.5) / (count + 1)


def run_evidence(
    totals: np.ndarray, first: int, variable: dict[dt.date, int], profile: Profile, origin: int
) -> tuple[float, float]:
    """What the month-to-date says about its month: (its variable spend so far, each day above LUMP
    usual days counted as that many, as the company calendar counts lumps; how far a third of a month's
    spend so counted strays from the share of its month the calendar gives it, root mean square of
    actual / expected - 1 over the last year's complete months with spend). The spread is the noise of a
    run rate per third of a month it has seen; thirds, not days: older history may come summed by
    thirds. Without two such months the spread is inf: the run rate says nothing."""
    months = [first + k for k in range(max(len(totals) - 12, 0), len(totals)) if totals[k] > 0]
    since = month_start(months[0]) if months else month_start(origin)
    recent = [(day, amount) for day, amount in variable.items() if day >= since]
    spent = [amount for _, amount in recent if amount > 0]
    cap = LUMP * float(np.median(spent)) if spent else math.inf
    sums: dict[int, float] = {}
    for day, amount in recent:  # third_of inlined, as in quiet_share
        third = (day.year * 12 + day.month - 1) * 3 + (2 if day.day > 20 else day.day > 10)
        sums[third] = sums.get(third, 0.0) + min(amount, cap)
    so_far = sum(sums.get(origin * 3 + third, 0.0) for third in range(3))
    squares = []
    for index in months:
        start, thirds = month_start(index), [sums.get(index * 3 + third, 0.0) for third in range(3)]
        total = sum(thirds)
        for third, (lo, hi) in enumerate(((0, 9), (10, 19), (20, days_in_month(index) - 1))):
            share = profile.share(start + dt.timedelta(days=lo), start + dt.timedelta(days=hi))
            if share > 0 and total > 0:
                squares.append((thirds[third] / (total * share) - 1) ** 2)
    spread = math.sqrt(float(np.mean(squares))) if len(months) >= 2 and squares else math.inf
    return so_far, spread


def snapshot(history: ScopeHistory, as_of: dt.date) -> Snapshot:
    recurring = detect(history.charges_by_merchant, as_of, history.schedules)
    charged = recurring_on(recurring)
    variable = {day: amount - charged.get(day, 0) for day, amount in history.daily.items() if day <= as_of}
    for day, amount in charged.items():
        if day not in variable and day <= as_of:
            variable[day] = -amount
    tomorrow = as_of + dt.timedelta(days=1)
    origin = month_index(tomorrow)
    first = max(history.first_full_month, origin - HISTORY_MONTHS)
    totals = np.zeros(max(origin - first, 0))
    month_to_date = 0
    for day, amount in variable.items():
        index = month_index(day)
        if first <= index < origin:
            totals[index - first] += amount
        elif index == origin:
            month_to_date += amount
    profile = history.calendar.profile(as_of) if history.calendar else UNIFORM
    quiet = quiet_share(variable, history.first_day, as_of)
    # On a month's first day nothing of it is seen: no run rate to weigh (nor to pay for: a third of the
    # calibration's replays).
    seen = tomorrow.day > 1
    typical, spread = run_evidence(totals, first, variable, profile, origin) if seen else (0.0, math.inf)
    return Snapshot(
        as_of,
        recurring,
        totals,
        origin,
        elapsed_days=tomorrow.day - 1,
        month_to_date=month_to_date,
        profile=profile,
        quiet=quiet,
        spread=spread,
        typical_to_date=typical,
    )


@dataclass(frozen=True)
class MonthShare:
    index: int
    variable: float  # expected variable spend over those days
    load: float  # months-equivalent of uncertainty those days add


@dataclass(frozen=True)
class Expectation:
    months: list[MonthShare]
    committed: dict[dt.date, int]  # projected recurring charges in the window, by day
    variable: float
    scale: float  # of the error of the remaining total
    where: Where  # which calibration bucket the remaining total's error falls in

    @property
    def committed_minor(self) -> int:
        return sum(self.committed.values())

    @property
    def load(self) -> float:
        """Months-equivalent of uncertainty still to come."""
        return sum(share.load for share in self.months)


def expect(snap: Snapshot, fit: MonthlyForecast, start: dt.date, end: dt.date) -> Expectation:
    """Expected spend from max(start, as_of + 1) to `end`."""
    first_day = max(start, snap.as_of + dt.timedelta(days=1))
    profile = snap.profile
    shares = []
    days = 0.0  # weighted days to come
    for index in range(month_index(first_day), month_index(end) + 1):
        lo, hi = max(first_day, month_start(index)), min(end, month_end(index))
        if hi < lo:
            continue
        step = index - snap.origin
        total = float(fit.mean[min(step, len(fit.mean) - 1)])  # the model's month
        part = profile.share(lo, hi)  # of the month's spend that falls on these days
        days += profile.days(lo, hi)
        load = part
        if step == 0 and snap.elapsed_days > 0 and fit.follows_run_rate:
            # What is spent is known; the days to come are a share of the model's month and the run
            # rate's (mtd / gone, the month it points to), each weighted by how sure it is (_credible).
            gone = profile.share(month_start(index), snap.as_of)
            total = (1 - gone) * _credible(snap, fit, total, gone) + snap.month_to_date
            load *= 1 - gone / 2  # a month that is partly known is partly certain
        shares.append(MonthShare(index, max(total, 0.0) * part, load))
    # Nothing is the typical outcome of these days: forecast as intermittent spend is (and its errors,
    # all on the upside, calibrated apart: Where.quiet).
    quiet = days > 0 and snap.quiet ** (days / THIRD_DAYS) >= 0.5
    if quiet:
        shares = [replace(share, variable=0.0) for share in shares]
    committed: dict[dt.date, int] = {}
    for series in snap.recurring:
        for day in series.next_dates(max(snap.as_of, start - dt.timedelta(days=1)), end):
            committed[day] = committed.get(day, 0) + series.amount_minor
    variable = sum(share.variable for share in shares)
    load = sum(share.load for share in shares)
    position = snap.elapsed_days / days_in_month(snap.origin)
    intermittent = not fit.follows_run_rate
    where = Where(load, position, len(snap.months) < SHORT_MONTHS, intermittent, quiet and not intermittent)
    return Expectation(shares, committed, variable, fit.sigma * math.sqrt(load), where)


def _credible(snap: Snapshot, fit: MonthlyForecast, model: float, gone: float) -> float:
    """The month the days to come are a share of: the model's month and the month-to-date run rate's,
    each weighted by the other's variance (relative): the model's one-month noise, and the run rate's,
    its thirds' spread over the thirds of the month it has seen."""
    seen = snap.profile.days(month_start(snap.origin), snap.as_of) / THIRD_DAYS
    if gone <= 0 or seen <= 0 or model <= 0 or not math.isfinite(snap.spread):
        return model
    model_var, rate_var = (fit.sigma / model) ** 2, snap.spread**2 / seen
    weight = model_var / (model_var + rate_var)
    return (1 - weight) * model + weight * max(snap.typical_to_date, 0) / gone


def fit_for(
    snap: Snapshot,
    end: dt.date,
    model: ModelName = DEFAULT_MODEL,
    dispersion: float = DEFAULT_DISPERSION,
    level: float = 0.0,
) -> MonthlyForecast:
    horizon = max(month_index(end) - snap.origin + 1, 1)
    fit = forecast_months(snap.months, horizon, model, first_month=snap.origin - len(snap.months))
    return borrow(fit, snap, dispersion, level)


def borrow(
    fit: MonthlyForecast, snap: Snapshot, dispersion: float, company_level: float = 0.0
) -> MonthlyForecast:
    """A short history (fewer than MODEL_FROM months) borrows its noise from the company's other teams:
    its own spread and the pooled one (`dispersion` x its level) weighted by their months of evidence,
    PRIOR_MONTHS for the pool, one less than its months for its own. With no complete month, the level
    is the month-to-date run rate; with nothing spent yet, the noise is the company's typical month's
    (`company_level`): a scope with no spend of its own is not a scope that cannot spend."""
    months = len(snap.months)
    if months >= MODEL_FROM:
        return fit
    mean = fit.mean
    if months == 0 and snap.elapsed_days > 0:
        run_rate = max(snap.month_to_date, 0) / snap.elapsed_days * days_in_month(snap.origin)
        mean = np.full(len(fit.mean), run_rate)
    level = float(mean[0]) if len(mean) else 0.0
    if level <= 0:
        level = company_level
    own = max(months - 1, 0)
    sigma = math.sqrt((own * fit.sigma**2 + PRIOR_MONTHS * (dispersion * level) ** 2) / (own + PRIOR_MONTHS))
    note = (
        f"short history: noise pooled with the company's other teams' ({dispersion:.0%} of the level a "
        f"month, worth {PRIOR_MONTHS} months against this scope's {months})"
    )
    return replace(fit, mean=mean, sigma=max(sigma, fit.sigma), notes=(*fit.notes, note))


@dataclass
class _Replays:
    """What the replays of a company's histories collect: each forecast's error (actual - expected) with
    its bucket, fit and snapshot, normalized once the pooled dispersion is known (short histories borrow
    it); and each long fit's noise relative to its level, which that dispersion is the median of."""

    errors: list[tuple[float, Where, MonthlyForecast, Snapshot]] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)  # the history each error was replayed from
    dispersions: list[float] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)  # each replayed history's level

    def calibration(self, series: int) -> Calibration:
        dispersion = float(np.median(self.dispersions)) if self.dispersions else DEFAULT_DISPERSION
        level = float(np.median(self.levels)) if self.levels else 0.0
        samples, sources = [], []
        for (error, where, fit, snap), source in zip(self.errors, self.sources, strict=True):
            scale = borrow(fit, snap, dispersion).sigma * math.sqrt(where.load)
            if scale > 0:
                samples.append((error / scale, where))
                sources.append(source)
        return Calibration.of(samples, series, dispersion, sources, level)


def calibrate(
    histories: Sequence[ScopeHistory],
    as_of: dt.date,
    *,
    origins: int = BACKTEST_ORIGINS,
    model: ModelName = DEFAULT_MODEL,
) -> Calibration:
    """Replay the forecast from past days of each history and keep its errors."""
    replays = _Replays()
    series = 0
    current = month_index(as_of + dt.timedelta(days=1))
    step = max(1, -(-len(histories) // CALIBRATION_SERIES))
    for history in histories[::step]:
        before = len(replays.errors)
        for origin in range(current - origins - max(BACKTEST_SPANS) + 1, current):
            _replay(history, origin, as_of, model, replays)
        replays.sources.extend([series] * (len(replays.errors) - before))
        series += len(replays.errors) > before
    return replays.calibration(series)


def _replay(history: ScopeHistory, origin: int, as_of: dt.date, model: ModelName, replays: _Replays) -> None:
    """Forecasts from the start, the 10th and the 20th of month `origin` to the end of that month and the
    next two; each also as a young team would have made it, with only its last one (odd origins) or two
    (even origins) complete months."""
    fits: list[MonthlyForecast] = []
    for day in BACKTEST_DAYS:
        cut = month_start(origin) + dt.timedelta(days=day - 1)
        if cut < history.first_day + dt.timedelta(days=90):
            continue
        snap = snapshot(history, cut)  # reads only what was known at `cut`
        kept = 1 + origin % (SHORT_MONTHS - 1)  # one or two months, every other origin
        cuts = [snap, *([replace(snap, months=snap.months[-kept:])] if kept < len(snap.months) else [])]
        if not fits:  # the complete months are the same on every day of the month
            fits = [forecast_months(one.months, max(BACKTEST_SPANS), model) for one in cuts]
            if len(snap.months) and (level := float(np.mean(snap.months[-12:]))) > 0:
                replays.levels.append(level)
                if len(snap.months) >= MODEL_FROM:
                    replays.dispersions.append(fits[0].sigma / level)
        for span in BACKTEST_SPANS:
            window_end = month_end(origin + span - 1)
            if window_end > as_of:
                break
            actual = history.total(cut + dt.timedelta(days=1), window_end)
            for one, fit in zip(cuts, fits, strict=True):
                expected = expect(one, fit, month_start(origin), window_end)
                error = actual - expected.variable - expected.committed_minor
                replays.errors.append((error, expected.where, fit, one))


def monthly_forecast(
    history: ScopeHistory, as_of: dt.date, h: int, model: ModelName = DEFAULT_MODEL
) -> np.ndarray:
    """Expected total spend (committed + variable) of each of the `h` months after the month holding
    `as_of + 1 day`'s start: the point forecasts the backtests score against the baselines. With `as_of`
    a month end, these are the next `h` calendar months."""
    snap = snapshot(history.until(as_of), as_of)
    fit = forecast_months(snap.months, h, model)
    totals = []
    for step in range(h):
        index = snap.origin + step
        expected = expect(snap, fit, month_start(index), month_end(index))
        totals.append(expected.variable + expected.committed_minor)
    return np.asarray(totals)


def calibrate_scopes(
    teams: Sequence[ScopeHistory], categories: Sequence[ScopeHistory], as_of: dt.date
) -> tuple[Calibration, Calibration]:
    """(for team budgets, for category budgets). A category's spend is lumpier relative to its level than
    a whole team's, so category budgets get their own errors when the company has enough of them."""
    # The renewal chance is the company's: learned once, on its teams, whose charges the categories split.
    renewal = renewal_rate(teams, as_of)
    team = replace(calibrate(teams, as_of), renewal=renewal)
    category = replace(calibrate(categories, as_of), renewal=renewal) if categories else team
    return team, category if category.calibrated and category.series >= MIN_BUCKET_SERIES else team

"""Variable spend: a team's monthly totals (recurring charges taken out) forecast a few months ahead.

The model is statsforecast's Dynamic Optimized Theta (the M4 competition's strongest single statistical
method family) on seasonally adjusted months once there are SEASONAL_FROM months of history (two years
and a quarter) and a yearly pattern passes the seasonality test, on the raw months otherwise. Short or
sparse histories fall back to the mean of recent months, which is the unbiased forecast of a total
when there is too little signal to fit anything (and the method says so). A level shift (a step in the
log months, `level_shift`) scales the months before it to the new level. docs/forecasting.md has the
backtests behind the choice. statsforecast is imported on first use: it pulls in pandas and
statsmodels, which the server's start-up should not pay for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

SEASON = 12
SEASONAL_FROM = 27  # months of history before a season is looked for: two years and a quarter
MODEL_FROM = 6  # months of history before a model is fitted at all
SPARSE_SHARE = 0.4  # share of empty months from which spend counts as intermittent
RECENT = 12  # months the fallbacks and the noise scale look at
# A level shift: a step in the log months on top of a straight-line trend, at least SHIFT_BEFORE months
# before it and SHIFT_AFTER after, a likelihood-ratio gain above SHIFT_PENALTY * log(n) and at least
# SHIFT_MIN in size (log, ~20%). docs/forecasting.md has the simulation behind the numbers.
SHIFT_BEFORE, SHIFT_AFTER = 3, 2
SHIFT_PENALTY = 4.0
SHIFT_MIN = 0.2

ModelName = Literal["theta", "ets", "theta+ets"]


@dataclass(frozen=True)
class MonthlyForecast:
    mean: np.ndarray  # expected totals of the next h months, minor units
    sigma: float  # typical size of a one-month error, from in-sample residuals (see _noise)
    method: str
    notes: tuple[str, ...] = ()
    shift: LevelShift | None = None
    # Whether this month's spend so far says something about the rest of it: not for intermittent
    # spend, where one purchase is no rate.
    follows_run_rate: bool = True


@dataclass(frozen=True)
class LevelShift:
    at: int  # index of the first month at the new level
    ratio: float  # new level / old level

    def note(self, first_month: int | None, months: int) -> str:
        when = f"{months - self.at} month(s) ago" if first_month is None else _label(first_month + self.at)
        return (
            f"level shift from {when}: spend x{self.ratio:.2f} since; the {self.at} month(s) before "
            "are scaled to the new level"
        )


def forecast_months(
    history: np.ndarray, h: int, model: ModelName = "theta", *, first_month: int | None = None
) -> MonthlyForecast:
    """Forecast the `h` months after `history` (complete months, oldest first; the first one's month
    index `first_month`, for the notes)."""
    y = np.asarray(history, dtype=float)
    n = len(y)
    if n == 0:
        return MonthlyForecast(np.zeros(h), 0.0, "none", ("no complete month of history: run rate only",))
    recent = y[-RECENT:]
    if n < MODEL_FROM:
        return _mean(recent, h, f"mean of {n} month(s)", f"only {n} complete month(s) of history")
    if np.mean(recent <= 0) >= SPARSE_SHARE:
        share = f"{np.mean(recent <= 0):.0%}"
        note = f"intermittent spend: {share} of months empty; this month's purchases are not a run rate"
        return _mean(recent, h, f"mean of {len(recent)} months", note, intermittent=True)
    season = _seasonality(y) if n >= SEASONAL_FROM else None
    shift = level_shift(y / season.factors[np.arange(n) % SEASON] if season else y)
    if shift is not None:
        y = np.concatenate([y[: shift.at] * shift.ratio, y[shift.at :]])
        season = _seasonality(y) if n >= SEASONAL_FROM else None  # a step is no longer in the way
    short = f"{n} months of history: too short for seasonality (needs {SEASONAL_FROM})"
    notes: tuple[str, ...] = () if n >= SEASONAL_FROM else (short,)
    notes += (shift.note(first_month, n),) if shift else ()
    mean, fitted = _fit(y, h, model, season)
    residuals = (y - fitted)[-RECENT:]
    residuals = residuals[np.isfinite(residuals)]
    return MonthlyForecast(
        mean=np.maximum(mean, 0.0),
        sigma=_noise(residuals, recent),
        method=_describe(model, season, n),
        notes=notes,
        shift=shift,
    )


def level_shift(y: np.ndarray) -> LevelShift | None:
    """The most likely step in the log months, if it is one: binary segmentation's first split with a
    straight-line trend in both models (a trend is not a shift), BIC-style penalty. O(n^2) for n <= 36."""
    n = len(y)
    if n < SHIFT_BEFORE + SHIFT_AFTER + 1 or np.any(y <= 0):
        return None
    z = np.log(y)
    t = np.arange(n, dtype=float)
    trend = np.column_stack([np.ones(n), t])
    hat = trend @ np.linalg.pinv(trend)
    residuals = z - hat @ z
    rss = float(residuals @ residuals)
    splits = np.arange(SHIFT_BEFORE, n - SHIFT_AFTER + 1)
    steps = (t[:, None] >= splits[None, :]).astype(float)
    steps -= hat @ steps  # each step with the trend taken out
    along = residuals @ steps
    gain = along**2 / np.sum(steps * steps, axis=0)
    with np.errstate(divide="ignore"):
        ratio = n * np.log(rss / np.maximum(rss - gain, 1e-12 * rss)) if rss > 0 else np.zeros_like(gain)
    best = int(np.argmax(ratio))
    size = float(along[best] / np.sum(steps[:, best] ** 2))
    if not ratio[best] > SHIFT_PENALTY * np.log(n) or abs(size) < SHIFT_MIN:
        return None
    return LevelShift(at=int(splits[best]), ratio=float(np.exp(size)))


def _label(month: int) -> str:
    return f"{month // 12}-{month % 12 + 1:02d}"


@dataclass(frozen=True)
class Season:
    factors: np.ndarray  # 12 multiplicative factors, factors[t % 12] for month t of the history
    autocorrelation: float  # at lag 12, of the detrended log months


def _seasonality(y: np.ndarray) -> Season | None:
    """A yearly pattern when the lag-12 autocorrelation of the log months, a straight-line trend taken
    out, is significant (one-sided 5%, white-noise standard error). statsforecast runs the M4 test on
    the raw months, where a trend's own autocorrelation (and Bartlett's correction for it) raises the bar
    until two or three years of a clear December dip do not pass; a strength measure on a classical
    decomposition goes the other way and finds a season in pure noise from so few years. When the test
    passes, the factors are the classical decomposition's."""
    from statsmodels.tsa.seasonal import seasonal_decompose

    if np.any(y <= 0):
        return None
    n = len(y)
    t = np.arange(n)
    z = np.log(y)
    z = z - np.polyval(np.polyfit(t, z, 1), t)
    energy = float(np.sum(z * z))
    autocorrelation = float(np.sum(z[:-SEASON] * z[SEASON:]) / energy) if energy > 0 else 0.0
    # `not >`: a NaN (a flat series has no variance to correlate) is no season.
    if not autocorrelation > 1.645 / np.sqrt(n):
        return None
    parts = seasonal_decompose(y, model="multiplicative", period=SEASON)
    return Season(np.asarray(parts.seasonal[:SEASON]), autocorrelation)


def _fit(y: np.ndarray, h: int, model: ModelName, season: Season | None) -> tuple[np.ndarray, np.ndarray]:
    from statsforecast.models import AutoETS, DynamicOptimizedTheta

    n = len(y)
    results: list[tuple[np.ndarray, np.ndarray]] = []
    if model in ("theta", "theta+ets"):
        # Theta on the seasonally adjusted months, then the season put back (the M4 Theta recipe).
        history = np.arange(n) % SEASON
        ahead = np.arange(n, n + h) % SEASON
        factors = season.factors if season else np.ones(SEASON)
        fit = DynamicOptimizedTheta(season_length=1).forecast(y=y / factors[history], h=h, fitted=True)
        results.append((fit["mean"] * factors[ahead], fit["fitted"] * factors[history]))
    if model in ("ets", "theta+ets"):
        period = SEASON if n >= 2 * SEASON else 1  # ETS estimates its own season from two years
        ets = AutoETS(season_length=period, model="ZZZ" if np.all(y > 0) else "AZZ")
        fit = ets.forecast(y=y, h=h, fitted=True)
        results.append((fit["mean"], fit["fitted"]))
    mean = np.mean([result[0] for result in results], axis=0)
    fitted = np.mean([result[1] for result in results], axis=0)
    return mean, fitted


def _mean(
    recent: np.ndarray, h: int, method: str, note: str, *, intermittent: bool = False
) -> MonthlyForecast:
    level = float(np.mean(recent))
    sigma = _noise(recent - level, recent, robust=not intermittent)
    return MonthlyForecast(
        np.full(h, max(level, 0.0)), sigma, method, (note,), follows_run_rate=not intermittent
    )


def _noise(residuals: np.ndarray, recent: np.ndarray, *, robust: bool = True) -> float:
    """The one-month error scale the calibration divides by, never below 5% of the level. Robust (MAD)
    so that one lumpy month does not set it; except for intermittent spend, where most residuals are the
    empty months and the purchases are the whole risk (a MAD would be near zero)."""
    if len(residuals) < 2:
        spread = 0.0
    elif robust:
        spread = float(np.median(np.abs(residuals - np.median(residuals)))) * 1.4826
    else:
        spread = float(np.std(residuals, ddof=1))
    return max(spread, 0.05 * abs(float(np.mean(recent))), 1.0)


def _describe(model: ModelName, season: Season | None, months: int) -> str:
    name = {"theta": "Dynamic Optimized Theta", "ets": "AutoETS", "theta+ets": "mean of Theta and AutoETS"}
    if months < SEASONAL_FROM:
        return f"{name[model]} (non-seasonal, {months} months)"
    found = f"seasonal, lag-12 autocorrelation {season.autocorrelation:.2f}" if season else "no season found"
    return f"{name[model]} ({found}, {months} months)"

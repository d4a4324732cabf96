"""Variable spend: a team's monthly totals (recurring charges taken out) forecast a few months ahead.

The model is statsforecast's Dynamic Optimized Theta (the M4 competition's strongest single statistical
method family) on seasonally adjusted months once there are SEASONAL_FROM months of history (two years
and a quarter) and a yearly pattern passes the seasonality test, on the raw months otherwise. Its
forecast is averaged with a damped trend's and the median of the last months (M4's winners combine), and
both smoothers see the months with lumps clipped: card spend is lumpy, and a smoother that averages a lump
in keeps forecasting it. Short histories fall back to the mean of their months, intermittent ones to the
typical (median) month, which is what one has to expect when there is too little signal to fit anything
(and the method says so). A level shift (a step in the log months, `level_shift`) scales the months
before it to the new level. docs/forecasting.md has the backtests behind the choices. statsforecast is
called through statsforecast_models.py, which keeps its DataFrame layer (pandas, statsmodels) out of the
server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.forecast.history import month_label

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
# The point forecast is the mean of three: the model (Theta), a damped trend (_damped_trend) and the
# median of the last MEDIAN_MONTHS (adjusted) months. The model and the trend see months above the recent
# median + LUMP_MADS robust deviations clipped to that bound: card spend is lumpy (a month of a trade
# show, a pandemic's bulk order), and a smoother that averages a lump in forecasts it for months.
# docs/forecasting.md has the backtests.
MEDIAN_MONTHS = 9
INTERMITTENT_MONTHS = 3  # the typical month of intermittent spend: the median of these last months
LUMP_MADS = 2.0
# The damped trend: Holt's linear method with its trend damped by DAMPING a month, the smoothing weights
# the grid's pair with the least in-sample squared error (docs/forecasting.md: the library's optimized
# damped trend did worse, and so did choosing the damping from 0.8-0.98 too).
DAMPING = 0.9
_LEVEL_WEIGHTS, _TREND_WEIGHTS = np.meshgrid([0.1, 0.2, 0.3, 0.5, 0.7], [0.01, 0.05, 0.1, 0.2])
TREND_T = 5.0  # robust standard errors a recent slope needs before the median follows it (_clear_trend)

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
        when = (
            f"{months - self.at} month(s) ago" if first_month is None else month_label(first_month + self.at)
        )
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
    # Intermittent from as few months as its typical month needs: the mean of a young scope's months was
    # one licence or one order spread over all of them, forecast again every month (docs/forecasting.md).
    if n >= INTERMITTENT_MONTHS and np.mean(recent <= 0) >= SPARSE_SHARE:
        return _intermittent(recent, h)
    if n < MODEL_FROM:
        return _mean(recent, h, f"mean of {n} month(s)", f"only {n} complete month(s) of history")
    season = _seasonality(y) if n >= SEASONAL_FROM else None
    shift = level_shift(y / season.factors[np.arange(n) % SEASON] if season else y)
    if shift is not None:
        y = np.concatenate([y[: shift.at] * shift.ratio, y[shift.at :]])
        season = _seasonality(y) if n >= SEASONAL_FROM else None  # a step is no longer in the way
    short = f"{n} months of history: too short for seasonality (needs {SEASONAL_FROM})"
    notes: tuple[str, ...] = () if n >= SEASONAL_FROM else (short,)
    notes += (shift.note(first_month, n),) if shift else ()
    clipped = _clip_lumps(y, season)
    mean, fitted = _fit(clipped, h, model, season)
    residuals = (y - fitted)[-RECENT:]
    residuals = residuals[np.isfinite(residuals)]
    mean = (mean + _damped_trend(clipped, h, season) + _recent_median(y, h, season)) / 3
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
    return Season(_seasonal_factors(y), autocorrelation)


def _seasonal_factors(y: np.ndarray) -> np.ndarray:
    """Classical multiplicative decomposition's factors (statsmodels' `seasonal_decompose`, in numpy: it
    costs a fifth of the calibration through pandas): each month's mean ratio to the centred 2x12 moving
    average, normalized to average 1. factors[t % 12] for month t of `y`."""
    weights = np.r_[0.5, np.ones(SEASON - 1), 0.5] / SEASON
    trend = np.full(len(y), np.nan)
    trend[SEASON // 2 : len(y) - SEASON // 2] = np.convolve(y, weights, mode="valid")
    ratios = np.full(-(-len(y) // SEASON) * SEASON, np.nan)
    ratios[: len(y)] = y / trend
    factors = np.asarray(np.nanmean(ratios.reshape(-1, SEASON), axis=0))
    return factors / float(factors.mean())


def _fit(y: np.ndarray, h: int, model: ModelName, season: Season | None) -> tuple[np.ndarray, np.ndarray]:
    from tools.forecast.statsforecast_models import AutoETS, DynamicOptimizedTheta

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


def _damped_trend(y: np.ndarray, h: int, season: Season | None) -> np.ndarray:
    """Holt's damped trend on the seasonally adjusted months, the season put back: every pair of smoothing
    weights of the grid run at once (one numpy step a month), the pair with the least squared one-month
    error kept. Level from the first month, trend from the first (up to) 3 months' slope."""
    adjusted = y / _factors(season, np.arange(len(y)))
    alpha, beta = _LEVEL_WEIGHTS.ravel(), _TREND_WEIGHTS.ravel()
    start = min(len(adjusted) - 1, 3)
    level = np.full(alpha.shape, adjusted[0])
    trend = np.full(alpha.shape, (adjusted[start] - adjusted[0]) / start if start else 0.0)
    squared = np.zeros(alpha.shape)
    for month in adjusted:
        guess = level + DAMPING * trend
        error = month - guess
        squared += error * error
        level = guess + alpha * error
        trend = DAMPING * trend + alpha * beta * error
    best = int(np.argmin(squared))
    path = level[best] + trend[best] * np.cumsum(DAMPING ** np.arange(1, h + 1))
    return np.asarray(path * _factors(season, np.arange(len(y), len(y) + h)))


def _factors(season: Season | None, months: np.ndarray) -> np.ndarray:
    return season.factors[months % SEASON] if season else np.ones(len(months))


def _clip_lumps(y: np.ndarray, season: Season | None) -> np.ndarray:
    """The months with lumps clipped: on seasonally adjusted months, above the recent median by more than
    LUMP_MADS robust deviations (1.4826 MAD). Dips are left alone: a month of little spend is no lump."""
    factors = _factors(season, np.arange(len(y)))
    adjusted = y / factors
    recent = adjusted[-RECENT:]
    median = float(np.median(recent))
    spread = 1.4826 * float(np.median(np.abs(recent - median)))
    if spread <= 0:
        return y
    return np.asarray(np.minimum(adjusted, median + LUMP_MADS * spread) * factors)


def _recent_median(y: np.ndarray, h: int, season: Season | None) -> np.ndarray:
    """The median of the last MEDIAN_MONTHS seasonally adjusted months, the season put back; when the
    last RECENT months hold a clear trend, each month is first carried along it to the forecast month."""
    n = len(y)
    adjusted = (y / _factors(season, np.arange(n)))[-RECENT:]
    slope = _clear_trend(adjusted)
    last = adjusted[-MEDIAN_MONTHS:]
    ago = np.arange(len(last))[::-1]  # months before the last one
    level = float(np.median(last + slope * ago)) + slope * np.arange(1, h + 1)
    return np.asarray(level * _factors(season, np.arange(n, n + h)))


def _clear_trend(y: np.ndarray) -> float:
    """The Theil-Sen slope of `y` (the median of the pairwise slopes: a lump does not tilt it), or 0 unless
    it is more than TREND_T robust standard errors from 0. Without the median following a trend, a team
    growing 3% a month was forecast low (OWA 1.12 against naive2); following every slope lost on the real
    series, whose drifts come and go (Birmingham 0.907 -> 0.953); at 5 errors: the trend 0.90, Birmingham
    0.910, with the median of 6 months (with 9: 0.954, 0.906; docs/forecasting.md)."""
    t = np.arange(len(y), dtype=float)
    first, second = np.triu_indices(len(y), 1)
    if len(first) == 0:
        return 0.0
    slope = float(np.median((y[second] - y[first]) / (t[second] - t[first])))
    residuals = y - slope * t
    residuals -= np.median(residuals)
    noise = 1.4826 * float(np.median(np.abs(residuals)))
    spread = float(np.sqrt(np.sum((t - t.mean()) ** 2)))
    return slope if noise == 0 or abs(slope) * spread > TREND_T * noise else 0.0


def _intermittent(recent: np.ndarray, h: int) -> MonthlyForecast:
    """Most months empty: the forecast is the typical month, the median of the last INTERMITTENT_MONTHS
    (nothing, when two of them are empty), and the purchases are the calibrated upper tail, on the noise
    of all the recent months. The mean (what the purchases add up to over a year) lost to it on every
    measure the evals score: sMAPE and MASE of the months, and the APE of a period's total; the median
    of six months followed an area that went quiet or came back too slowly (docs/forecasting.md)."""
    share = f"{np.mean(recent <= 0):.0%}"
    note = f"intermittent spend: {share} of months empty; this month's purchases are not a run rate"
    level = max(float(np.median(recent[-INTERMITTENT_MONTHS:])), 0.0)
    sigma = _noise(recent - float(np.mean(recent)), recent, robust=False)
    method = f"median of {INTERMITTENT_MONTHS} months"
    return MonthlyForecast(np.full(h, level), sigma, method, (note,), follows_run_rate=False)


def _mean(recent: np.ndarray, h: int, method: str, note: str) -> MonthlyForecast:
    level = float(np.mean(recent))
    return MonthlyForecast(np.full(h, max(level, 0.0)), _noise(recent - level, recent), method, (note,))


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
    combined = f", a damped trend and the median of {MEDIAN_MONTHS} months"
    if months < SEASONAL_FROM:
        return f"{name[model]}{combined} (non-seasonal, {months} months)"
    found = f"seasonal, lag-12 autocorrelation {season.autocorrelation:.2f}" if season else "no season found"
    return f"{name[model]}{combined} ({found}, {months} months)"

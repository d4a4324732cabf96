"""Variable spend: a team's monthly totals (recurring charges taken out) forecast a few months ahead.

The model is statsforecast's Dynamic Optimized Theta (the M4 competition's strongest single statistical
method family), seasonal once there are two full years of history, non-seasonal before that. Short or
sparse histories fall back to the mean of recent months, which is the unbiased forecast of a total
when there is too little signal to fit anything (and the method says so). docs/forecasting.md has the
backtests behind the choice. statsforecast is imported on first use: it pulls in pandas and
statsmodels, which the server's start-up should not pay for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

SEASON = 12
SEASONAL_FROM = 2 * SEASON  # months of history before seasonality is estimated
MODEL_FROM = 6  # months of history before a model is fitted at all
SPARSE_SHARE = 0.4  # share of empty months from which spend counts as intermittent
RECENT = 12  # months the fallbacks and the noise scale look at

ModelName = Literal["theta", "ets", "theta+ets"]


@dataclass(frozen=True)
class MonthlyForecast:
    mean: np.ndarray  # expected totals of the next h months, minor units
    sigma: float  # typical size of a one-month error (robust, from in-sample residuals)
    method: str
    notes: tuple[str, ...] = ()
    # Whether this month's spend so far says something about the rest of it: not for intermittent
    # spend, where one purchase is no rate.
    follows_run_rate: bool = True


def forecast_months(history: np.ndarray, h: int, model: ModelName = "theta") -> MonthlyForecast:
    """Forecast the `h` months after `history` (complete months, oldest first)."""
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
        return _mean(recent, h, f"mean of {len(recent)} months", note, follows_run_rate=False)
    seasonal = n >= SEASONAL_FROM
    notes = () if seasonal else (f"{n} months of history: too short for seasonality (needs {SEASONAL_FROM})",)
    mean, fitted = _fit(y, h, model, seasonal)
    residuals = (y - fitted)[-RECENT:]
    residuals = residuals[np.isfinite(residuals)]
    return MonthlyForecast(
        mean=np.maximum(mean, 0.0),
        sigma=_noise(residuals, recent),
        method=_describe(model, seasonal, n),
        notes=notes,
    )


def _fit(y: np.ndarray, h: int, model: ModelName, seasonal: bool) -> tuple[np.ndarray, np.ndarray]:
    from statsforecast.models import AutoETS, DynamicOptimizedTheta

    season = SEASON if seasonal else 1
    # Multiplicative seasonal decomposition needs positive months; refunds can make one negative.
    decomposition = "multiplicative" if np.all(y > 0) else "additive"
    candidates: list[Any] = []
    if model in ("theta", "theta+ets"):
        candidates.append(DynamicOptimizedTheta(season_length=season, decomposition_type=decomposition))
    if model in ("ets", "theta+ets"):
        candidates.append(AutoETS(season_length=season, model="ZZZ" if np.all(y > 0) else "AZZ"))
    results = [candidate.forecast(y=y, h=h, fitted=True) for candidate in candidates]
    mean = np.mean([result["mean"] for result in results], axis=0)
    fitted = np.mean([result["fitted"] for result in results], axis=0)
    return mean, fitted


def _mean(
    recent: np.ndarray, h: int, method: str, note: str, *, follows_run_rate: bool = True
) -> MonthlyForecast:
    level = float(np.mean(recent))
    sigma = _noise(recent - level, recent)
    return MonthlyForecast(np.full(h, max(level, 0.0)), sigma, method, (note,), follows_run_rate)


def _noise(residuals: np.ndarray, recent: np.ndarray) -> float:
    """The one-month error scale the calibration divides by: the residuals' standard deviation (not a
    robust one: for lumpy spend the lumps are the risk), never below 5% of the level."""
    spread = float(np.std(residuals, ddof=1)) if len(residuals) > 1 else 0.0
    return max(spread, 0.05 * abs(float(np.mean(recent))), 1.0)


def _describe(model: ModelName, seasonal: bool, months: int) -> str:
    name = {"theta": "Dynamic Optimized Theta", "ets": "AutoETS", "theta+ets": "mean of Theta and AutoETS"}
    return f"{name[model]} ({'seasonal' if seasonal else 'non-seasonal'}, {months} months)"

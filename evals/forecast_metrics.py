"""Forecast accuracy as the M4 competition scores it, and the M4 benchmarks (numpy, and scipy's beta
quantile through the categorizer's Clopper-Pearson bound: no model library, so the yardstick stays
independent of the forecaster it measures).

- sMAPE = mean(200 |y - f| / (|y| + |f|)); a 0/0 term counts 0.
- MASE = mean |y - f| / scale, scale = mean |y_t - y_{t-m}| over the in-sample series, m = 12 (monthly)
  when the in-sample has at least m + 1 points, else m = 1 (`mase_scale` says which it used).
- naive: the last value; seasonal naive: the value m periods before (naive where there is none);
  naive2: naive on the seasonally adjusted series, re-seasonalized with classical multiplicative
  decomposition indices, when the M4 90% autocorrelation test at lag m finds seasonality (it needs
  n >= 3m); plain naive otherwise.
- OWA = (sMAPE / sMAPE_naive2 + MASE / MASE_naive2) / 2, on sMAPE and MASE averaged over every forecast
  point first (as M4 does over all its series and horizons).
- Interval coverage, with the Clopper-Pearson interval of an observed share (how far a coverage
  measured on few outcomes may be from the truth: the categorizer's one-sided bound at each end); the
  Brier score of a probability, and the Brier score of the base rate (the reference a skill score
  compares against).
- APE of a period total: |y - f| / |y|, undefined when nothing was spent (y = 0).

Sources: the M4 Competitor's Guide and the benchmarks' R code (`SeasonalityTest`, `Benchmarks`,
`naive_seasonal`, `smape_cal`, `mase_cal` in github.com/Mcompetitions/M4-methods), which uses R's
`stats::acf` and `stats::decompose`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tools.categorize.auto_apply import lower_bound

Floats = npt.NDArray[np.float64]
Values = Sequence[float] | Floats

MONTHLY = 12
TCRIT = 1.645  # one-sided 90% (the M4 seasonality test)


def _array(values: Values) -> Floats:
    return np.asarray(values, dtype=np.float64)


def smape_terms(actual: Values, forecast: Values) -> Floats:
    """200 |y - f| / (|y| + |f|) per point, 0 where both are 0."""
    y, f = _array(actual), _array(forecast)
    denominator = np.abs(y) + np.abs(f)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, 200.0 * np.abs(y - f) / safe)


@dataclass(frozen=True)
class Scale:
    """The MASE denominator of one in-sample series; `value` is None when it is undefined (fewer than two
    points, or a series that never moves at lag m)."""

    value: float | None
    m: int


def mase_scale(insample: Values, m: int = MONTHLY) -> Scale:
    y = _array(insample)
    lag = m if len(y) >= m + 1 else 1
    if len(y) < lag + 1:
        return Scale(None, lag)
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    return Scale(scale if scale > 0 else None, lag)


def ase_terms(actual: Values, forecast: Values, scale: float) -> Floats:
    """|y - f| / scale per point: MASE is their mean."""
    return np.abs(_array(actual) - _array(forecast)) / scale


def naive(insample: Values, h: int) -> Floats:
    y = _array(insample)
    return np.full(h, y[-1])


def seasonal_naive(insample: Values, h: int, m: int = MONTHLY) -> Floats:
    """y[n + k - m] for step k (1-based), repeating the last season; the last value where the series does
    not reach back that far."""
    y = _array(insample)
    n = len(y)
    picks = [n - m + (k - 1) % m for k in range(1, h + 1)]
    return np.asarray([y[i] if i >= 0 else y[-1] for i in picks], dtype=np.float64)


def acf(insample: Values, lag: int) -> float:
    """R's `acf`: sum_{t} (y_t - mean)(y_{t+lag} - mean) / sum_t (y_t - mean)^2 (NaN for a flat series)."""
    y = _array(insample)
    centred = y - np.mean(y)
    denominator = float(np.sum(centred**2))
    if denominator == 0:
        return math.nan
    return float(np.sum(centred[: len(y) - lag] * centred[lag:]) / denominator)


def seasonality_test(insample: Values, m: int = MONTHLY) -> bool:
    """M4's test: |acf_m| > 1.645 sqrt((1 + 2 sum_{k<m} acf_k^2) / n); never seasonal below 3m points."""
    y = _array(insample)
    n = len(y)
    if m <= 1 or n < 3 * m:
        return False
    coefficients = [acf(y, k) for k in range(1, m + 1)]
    if any(math.isnan(value) for value in coefficients):
        return False
    limit = TCRIT * math.sqrt((1 + 2 * sum(value**2 for value in coefficients[:-1])) / n)
    return abs(coefficients[-1]) > limit


def seasonal_indices(insample: Values, m: int = MONTHLY) -> Floats:
    """R's `decompose(type="multiplicative")$seasonal`: the series over its centred moving average (2 x m
    for even m), averaged per position in the cycle (counted from the first point), normalized to mean
    1, and laid along the series."""
    y = _array(insample)
    n = len(y)
    weights = np.full(m + 1, 1.0 / m) if m % 2 == 0 else np.full(m, 1.0 / m)
    if m % 2 == 0:
        weights[0] = weights[-1] = 0.5 / m
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    for t in range(half, n - half):
        trend[t] = float(np.dot(weights, y[t - half : t + half + 1]))
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero trend: undefined, caught by naive2
        ratios = y / trend
        figure = np.asarray([_mean_of_defined(ratios[position::m]) for position in range(m)])
        figure = figure / np.mean(figure)
    return np.asarray([figure[t % m] for t in range(n)])


def _mean_of_defined(values: Floats) -> float:
    """R's mean(na.rm = TRUE): NaN (no moving average there) is left out, an infinite ratio is not."""
    defined = values[~np.isnan(values)]
    return float(np.mean(defined)) if len(defined) else math.nan


@dataclass(frozen=True)
class Naive2:
    forecast: Floats
    seasonal: bool  # the test found seasonality and the indices were usable
    note: str | None = None  # why a seasonal series got the plain naive forecast


def naive2(insample: Values, h: int, m: int = MONTHLY) -> Naive2:
    y = _array(insample)
    if not seasonality_test(y, m):
        return Naive2(naive(y, h), seasonal=False)
    indices = seasonal_indices(y, m)
    ahead = np.asarray([indices[len(y) - m + (k - 1) % m] for k in range(1, h + 1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        forecast = y[-1] / indices[-1] * ahead
    if not np.all(np.isfinite(forecast)):
        # Multiplicative indices of a series with empty months can be 0 or undefined: M4's series were
        # all positive, so the definition stops there; the plain naive forecast is what is left.
        return Naive2(naive(y, h), seasonal=False, note="seasonal indices undefined (empty months)")
    return Naive2(forecast, seasonal=True)


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float | None:
    if smape_naive2 == 0 or mase_naive2 == 0:
        return None
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


def coverage(inside: Sequence[bool]) -> float | None:
    return None if not inside else sum(inside) / len(inside)


def binomial_interval(successes: int, n: int, level: float = 0.90) -> tuple[float, float] | None:
    """Two-sided Clopper-Pearson interval of the share successes / n (exact, so never too narrow): the
    one-sided lower bound at (1 - level) / 2 of the successes' share and of the failures'."""
    if n <= 0:
        return None
    tail = (1 - level) / 2
    return lower_bound(successes, n, tail), 1 - lower_bound(n - successes, n, tail)


def ape(actual: float, forecast: float) -> float | None:
    """|y - f| / |y| of one period total; None when nothing was spent (no percentage of 0)."""
    return None if actual == 0 else abs(actual - forecast) / abs(actual)


def brier(probabilities: Values, outcomes: Sequence[bool]) -> float | None:
    if not outcomes:
        return None
    p, o = _array(probabilities), np.asarray(outcomes, dtype=np.float64)
    return float(np.mean((p - o) ** 2))


def brier_base_rate(outcomes: Sequence[bool]) -> float | None:
    """The Brier score of always forecasting the observed base rate r: r (1 - r)."""
    if not outcomes:
        return None
    rate = sum(outcomes) / len(outcomes)
    return rate * (1 - rate)


def brier_skill(score: float | None, reference: float | None) -> float | None:
    """1 - Brier / Brier of the base rate: above 0 beats the base rate; undefined when the outcomes never
    vary (the reference is then perfect)."""
    if score is None or not reference:
        return None
    return 1 - score / reference

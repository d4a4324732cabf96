"""The variable-spend model on series of known shape: which season it sees, which fallback it takes."""

from __future__ import annotations

import numpy as np
import pytest

from tools.forecast.model import DAMPING, _damped_trend, _seasonal_factors, forecast_months, level_shift

SEASON = np.array([0.8, 0.9, 1.0, 1.1, 1.2, 1.0, 0.9, 0.7, 1.0, 1.1, 1.2, 1.1])


def _series(months: int, *, season: bool, growth: float = 0.02, shift_at: int | None = None) -> np.ndarray:
    noise = np.random.default_rng(7).normal(1.0, 0.05, months)
    t = np.arange(months)
    level = 20_000 * (1 + growth) ** t
    if shift_at is not None:
        level = np.where(t >= shift_at, 2 * level, level)
    return level * (SEASON[t % 12] if season else 1.0) * noise


@pytest.mark.parametrize("months", [27, 30, 35])
def test_a_trending_season_is_seen_from_two_years_and_a_quarter(months: int) -> None:
    y = _series(months, season=True)

    fit = forecast_months(y, 12)

    assert "seasonal, lag-12 autocorrelation" in fit.method
    # The forecast follows the season: the low month of the year (index 7) below the high ones.
    ahead = [month % 12 for month in range(months, months + 12)]
    assert fit.mean[ahead.index(7)] < 0.85 * fit.mean[ahead.index(4)]


@pytest.mark.parametrize(
    ("label", "y"),
    [
        ("trend", _series(30, season=False, growth=0.04)),
        ("flat", _series(30, season=False, growth=0.0)),
        ("level shift", _series(30, season=False, growth=0.0, shift_at=22)),
    ],
)
def test_no_season_is_made_up_from_a_trend_noise_or_a_level_shift(label: str, y: np.ndarray) -> None:
    assert "no season found" in forecast_months(y, 3).method, label


def test_short_and_intermittent_histories_fall_back_and_say_so() -> None:
    short = forecast_months(np.array([100.0, 120.0, 90.0]), 2)
    sparse = forecast_months(np.array([0, 0, 9000, 0, 0, 0, 12000, 0, 0, 0, 0, 8000], dtype=float), 3)

    assert short.method == "mean of 3 month(s)"
    assert "only 3 complete month(s)" in short.notes[0]
    assert list(short.mean) == pytest.approx([103.333, 103.333], abs=0.001)
    assert "intermittent" in sparse.notes[0]
    assert not sparse.follows_run_rate
    # Most months are empty: the typical month is nothing; the purchases are the calibrated upper tail.
    assert sparse.method == "median of 3 months"
    assert list(sparse.mean) == [0.0] * 3
    assert sparse.sigma > 4000


def test_a_short_history_of_mostly_empty_months_is_intermittent_spend() -> None:
    # Four months, one of them a yearly licence: their mean forecast a quarter of the licence every month.
    licence = forecast_months(np.array([10_000.0, 0.0, 0.0, 0.0]), 3)
    # Fewer months than the typical month is the median of: still the mean of the months there are.
    young = forecast_months(np.array([0.0, 9_000.0]), 1)

    assert licence.method == "median of 3 months"
    assert "intermittent" in licence.notes[0]
    assert list(licence.mean) == [0.0] * 3
    assert not licence.follows_run_rate
    assert licence.sigma > 4_000  # the licence is the calibrated upper tail
    assert young.method == "mean of 2 month(s)"
    assert list(young.mean) == [4_500.0]


def test_intermittent_spend_follows_its_last_months_when_an_area_comes_back() -> None:
    # Seven empty months of twelve, then three of spend in a row: the typical month is now one of them
    # (the median of the last three), not nothing (the median of six held two of the empty months).
    back = forecast_months(np.array([0, 3000, 0, 0, 4000, 0, 0, 0, 0, 5000, 6000, 5500], dtype=float), 2)

    assert "intermittent" in back.notes[0]
    assert list(back.mean) == [5500.0, 5500.0]


def test_a_flat_history_has_no_season_and_a_finite_forecast() -> None:
    """Its detrended log months are all zero: the lag-12 autocorrelation is 0/0, which is no season."""
    fit = forecast_months(np.full(30, 1000.0), 3)

    assert "no season found" in fit.method
    assert "nan" not in fit.method.lower()
    assert list(fit.mean) == pytest.approx([1000.0] * 3)
    assert np.isfinite(fit.sigma)


@pytest.mark.parametrize(("months", "shift_at", "factor"), [(24, 18, 2.0), (30, 21, 0.5), (14, 10, 0.6)])
def test_a_level_shift_is_found_named_by_its_month_and_forecast_at_the_new_level(
    months: int, shift_at: int, factor: float
) -> None:
    y = _series(months, season=False, growth=0.0)
    y[shift_at:] *= factor
    first_month = 2024 * 12  # January 2024

    fit = forecast_months(y, 3, first_month=first_month)

    assert fit.shift is not None
    assert fit.shift.at == shift_at
    assert fit.shift.ratio == pytest.approx(factor, rel=0.1)
    shifted = first_month + shift_at
    assert any(f"level shift from {shifted // 12}-{shifted % 12 + 1:02d}" in note for note in fit.notes)
    assert fit.mean == pytest.approx(np.full(3, 20_000 * factor), rel=0.1)


@pytest.mark.parametrize(
    ("label", "y"),
    [
        ("trend", _series(30, season=False, growth=0.04)),
        ("decline", _series(30, season=False, growth=-0.03)),
        ("flat noise", _series(30, season=False, growth=0.0)),
        ("season", _series(30, season=True, growth=0.0)),
    ],
)
def test_a_trend_noise_or_a_season_is_no_level_shift(label: str, y: np.ndarray) -> None:
    assert level_shift(y) is None, label


def test_a_lump_is_not_forecast_again() -> None:
    """A month of ten times the usual spend (a bulk order) moves the forecast by little: the model sees it
    clipped to the recent median plus two robust deviations, and a third of the forecast is the recent
    median."""
    y = _series(24, season=False, growth=0.0)
    lumpy = y.copy()
    lumpy[-3] *= 10

    plain, fit = forecast_months(y, 3), forecast_months(lumpy, 3)

    assert fit.mean == pytest.approx(plain.mean, rel=0.1)
    assert fit.sigma < 0.2 * 20_000


def test_a_steady_trend_is_still_followed() -> None:
    y = _series(24, season=False, growth=0.04)

    fit = forecast_months(y, 3)

    assert fit.mean[0] > y[-6:].mean()
    assert fit.mean[2] > fit.mean[0]


def test_the_damped_trend_follows_a_line_less_and_less() -> None:
    line = 1_000 + 50 * np.arange(24, dtype=float)

    path = _damped_trend(line, 6, None)

    steps = np.diff(path)
    assert path[0] > line[-1]
    assert np.all(steps > 0)
    assert steps[1:] == pytest.approx(DAMPING * steps[:-1])  # each month's rise damped from the last
    assert path[-1] < line[-1] + 6 * 50


def test_the_damped_trend_of_a_flat_history_is_flat() -> None:
    assert _damped_trend(np.full(12, 700.0), 3, None) == pytest.approx([700.0] * 3)


@pytest.mark.parametrize("months", [27, 31, 36])
def test_the_seasonal_factors_are_the_classical_decompositions(months: int) -> None:
    """`_seasonal_factors` is statsmodels' multiplicative `seasonal_decompose` in numpy (a fifth of the
    calibration's time went to it through pandas)."""
    from statsmodels.tsa.seasonal import seasonal_decompose

    y = _series(months, season=True)

    expected = seasonal_decompose(y, model="multiplicative", period=12).seasonal[:12]

    assert _seasonal_factors(y) == pytest.approx(expected, rel=1e-12)

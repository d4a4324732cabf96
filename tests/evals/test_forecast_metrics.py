"""The M4 metrics and benchmarks of `outlay eval forecast`, on values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from evals import forecast_metrics as m

# A year of multiplicative seasonal indices that average exactly 1.
SEASON = [0.8, 0.9, 1.0, 1.1, 1.2, 1.0, 0.9, 0.7, 1.0, 1.1, 1.2, 1.1]


def test_smape_is_200_times_the_error_over_the_sum_of_magnitudes_and_0_for_0_over_0() -> None:
    terms = m.smape_terms([100, 0, 50], [110, 0, 40])

    assert terms == pytest.approx([200 * 10 / 210, 0.0, 200 * 10 / 90])
    assert np.mean(terms) == pytest.approx((200 / 21 + 0 + 200 / 9) / 3)


def test_mase_scales_by_the_in_sample_seasonal_naive_error() -> None:
    insample = [float(value) for value in range(1, 15)]  # 14 points: lag 12, every difference is 12

    assert m.mase_scale(insample) == m.Scale(12.0, 12)
    assert np.mean(m.ase_terms([20, 18], [14, 18], 12.0)) == pytest.approx((6 + 0) / 2 / 12)


def test_mase_falls_back_to_lag_1_on_a_short_in_sample_and_says_so() -> None:
    insample = [10, 14, 11]  # too short for lag 12: |14 - 10| and |11 - 14| average 3.5

    assert m.mase_scale(insample) == m.Scale(3.5, 1)
    assert np.mean(m.ase_terms([20, 18], [17, 18], 3.5)) == pytest.approx(1.5 / 3.5)


@pytest.mark.parametrize("insample", [[7.0], [5.0, 5.0, 5.0]])
def test_mase_is_undefined_without_a_change_in_sample(insample: list[float]) -> None:
    assert m.mase_scale(insample).value is None


def test_naive_repeats_the_last_value() -> None:
    assert list(m.naive([3, 9, 4], 3)) == [4, 4, 4]


def test_seasonal_naive_takes_the_value_a_season_before() -> None:
    insample = [float(value) for value in range(1, 15)]  # months 1..14

    assert list(m.seasonal_naive(insample, 3)) == [3, 4, 5]  # months 15..17 <- 3..5


def test_seasonal_naive_uses_the_last_value_where_the_series_does_not_reach_back() -> None:
    insample = [float(value) for value in range(1, 11)]  # months 1..10: month 13 <- 1, 11 and 12 <- naive

    assert list(m.seasonal_naive(insample, 3)) == [10, 10, 1]


def test_acf_is_rs_autocorrelation() -> None:
    # mean 2.5, deviations -1.5 -0.5 0.5 1.5, sum of squares 5
    assert m.acf([1, 2, 3, 4], 1) == pytest.approx((0.75 - 0.25 + 0.75) / 5)
    assert m.acf([1, 2, 3, 4], 2) == pytest.approx((-0.75 - 0.75) / 5)
    assert np.isnan(m.acf([2, 2, 2], 1))


def test_seasonal_indices_are_the_ratios_to_the_centred_moving_average() -> None:
    # m = 4: weights 1/8, 1/4, 1/4, 1/4, 1/8; the moving average of this series is 25 wherever defined
    # (t = 2..5), so the ratios are 1.2, 1.6 (t = 2, 3) and 0.4, 0.8 (t = 4, 5), already of mean 1.
    indices = m.seasonal_indices([10, 20, 30, 40, 10, 20, 30, 40], 4)

    assert indices == pytest.approx([0.4, 0.8, 1.2, 1.6] * 2)


def test_naive2_reseasonalizes_the_naive_forecast_of_a_seasonal_series() -> None:
    insample = [100 * SEASON[t % 12] for t in range(36)]  # three years, level 100

    found = m.naive2(insample, 3)

    assert m.seasonality_test(insample)
    assert found.seasonal
    assert m.seasonal_indices(insample) == pytest.approx(SEASON * 3)
    # last value 110 (index 1.1): adjusted level 100, then January, February, March again
    assert found.forecast == pytest.approx([80, 90, 100])


def test_naive2_is_naive_on_a_series_too_short_for_the_seasonality_test() -> None:
    insample = [100 * SEASON[t % 12] for t in range(35)]  # M4 tests seasonality from 3 seasons only

    found = m.naive2(insample, 3)

    assert not m.seasonality_test(insample)
    assert not found.seasonal
    assert found.forecast == pytest.approx([120, 120, 120])  # the last value (index 1.2), as is


def test_a_trend_alone_is_not_seasonal() -> None:
    assert not m.seasonality_test([float(value) for value in range(48)])


def test_owa_averages_the_ratios_to_naive2() -> None:
    assert m.owa(10.0, 0.8, 20.0, 1.0) == pytest.approx(0.5 * (10 / 20 + 0.8 / 1.0))
    assert m.owa(10.0, 0.8, 0.0, 1.0) is None


def test_coverage_brier_and_the_base_rate() -> None:
    outcomes = [True, False, False]

    assert m.coverage([True, True, False, True]) == 0.75
    assert m.coverage([]) is None
    assert m.brier([0.9, 0.2, 0.6], outcomes) == pytest.approx((0.01 + 0.04 + 0.36) / 3)
    assert m.brier_base_rate(outcomes) == pytest.approx(1 / 3 * 2 / 3)
    assert m.brier_skill(0.41 / 3, 2 / 9) == pytest.approx(1 - (0.41 / 3) / (2 / 9))
    assert m.brier_skill(0.1, m.brier_base_rate([True, True])) is None  # nothing varies: no reference

"""The engine's pieces on histories of known shape: recurring plans at one merchant, the calibration's
buckets and their fallbacks, and what a short history borrows from the company."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from tools.forecast.calendar import UNIFORM
from tools.forecast.engine import (
    MIN_BUCKET,
    PRIOR_MONTHS,
    Calibration,
    Snapshot,
    Where,
    borrow,
    calibrate,
    expect,
    fit_for,
    quiet_share,
    snapshot,
)
from tools.forecast.history import Charge, ScopeHistory, add_months, by_merchant
from tools.forecast.model import MonthlyForecast, forecast_months
from tools.forecast.recurring import Schedules, detect

AS_OF = dt.date(2026, 9, 1)


def _monthly(merchant_id: int, name: str, first: dt.date, amount: int, count: int = 8) -> list[Charge]:
    return [Charge(merchant_id, name, add_months(first, k), amount) for k in range(count)]


def test_two_plans_at_one_merchant_are_two_recurring_series() -> None:
    plans = _monthly(1, "Acme SaaS", dt.date(2026, 1, 3), 1200_00) + _monthly(
        1, "Acme SaaS", dt.date(2026, 1, 17), 450_00
    )

    found = detect(by_merchant(plans), AS_OF)

    assert [(one.merchant, one.amount_minor, one.cadence) for one in found] == [
        ("Acme SaaS", 1200_00, "monthly"),
        ("Acme SaaS", 450_00, "monthly"),
    ]
    assert [len(one.charges) for one in found] == [8, 8]


def test_a_plan_among_one_off_purchases_at_its_merchant_is_recurring() -> None:
    plan = _monthly(2, "Cloud", dt.date(2026, 1, 9), 800_00)
    one_offs = [
        Charge(2, "Cloud", dt.date(2026, 2, 21), 2500_00),
        Charge(2, "Cloud", dt.date(2026, 5, 2), 90_00),
    ]

    found = detect(by_merchant(plan + one_offs), AS_OF)

    assert [(one.amount_minor, len(one.charges)) for one in found] == [(800_00, 8)]


def test_random_purchases_at_one_merchant_are_not_recurring() -> None:
    rng = random.Random(3)
    day, charges = dt.date(2026, 1, 2), []
    while day < AS_OF:
        charges.append(Charge(3, "Taxi", day, rng.randrange(10_00, 60_00)))
        day += dt.timedelta(days=rng.randint(1, 6))

    assert detect(by_merchant(charges), AS_OF) == []


def test_schedules_kept_between_days_find_what_a_fresh_detection_finds() -> None:
    """The calibration reads one history as of many days and keeps each merchant's schedules (`memo`):
    a stopped series, a plan that starts, a one-off, all as a fresh detection on each day sees them."""
    charges = (
        _monthly(1, "Acme SaaS", dt.date(2025, 11, 3), 1200_00, count=6)  # stops in April
        + _monthly(1, "Acme SaaS", dt.date(2026, 3, 17), 450_00, count=5)
        + _monthly(2, "Cloud", dt.date(2025, 12, 9), 800_00, count=9)
        + [Charge(2, "Cloud", dt.date(2026, 2, 21), 2500_00)]
    )
    grouped = by_merchant(charges)
    memo: Schedules = {}
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=10 * k) for k in range(30)]

    kept = [detect(grouped, day, memo) for day in days]

    assert kept == [detect(by_merchant(charges), day) for day in days]
    assert {len(found) for found in kept} == {0, 1, 2}


def _where(short: bool, load: float = 0.5, position: float = 0.0) -> Where:
    return Where(load=load, position=position, short=short)


def test_errors_are_kept_by_bucket_and_a_thin_bucket_falls_back_to_a_coarser_one() -> None:
    long_early = [(float(k % 5) - 2, _where(False)) for k in range(MIN_BUCKET)]
    long_late = [(10.0, _where(False, position=0.7)) for _ in range(MIN_BUCKET // 2)]  # too few alone
    short = [(float(k % 9) - 4, _where(True)) for k in range(MIN_BUCKET)]

    calibration = Calibration.of(long_early + long_late + short, series=3, dispersion=0.2)

    assert calibration.errors_at(_where(False)).tolist() == sorted(e for e, _ in long_early)
    # The late bucket has too few errors: it falls back to all long histories' errors at that load.
    assert len(calibration.errors_at(_where(False, position=0.7))) == len(long_early) + len(long_late)
    assert calibration.errors_at(_where(True)).tolist() == sorted(e for e, _ in short)
    # Nothing at all for long horizons of short histories: their history length's errors.
    assert len(calibration.errors_at(_where(True, load=3.0))) == len(short)
    assert calibration.backtests == len(long_early) + len(long_late) + len(short)


def test_intermittent_spend_has_errors_of_its_own_and_falls_back_to_its_history_length() -> None:
    dense = [(float(k % 5) - 2, _where(False)) for k in range(MIN_BUCKET)]
    sparse = [(float(k % 7), Where(0.5, intermittent=True)) for k in range(MIN_BUCKET)]

    calibration = Calibration.of(dense + sparse, series=2, dispersion=0.2)

    assert calibration.errors_at(Where(0.5, intermittent=True)).tolist() == sorted(e for e, _ in sparse)
    assert calibration.errors_at(_where(False)).tolist() == sorted(e for e, _ in dense)
    # No short history was replayed at all: a short intermittent one falls back to all errors.
    assert len(calibration.errors_at(Where(0.5, short=True, intermittent=True))) == len(dense) + len(sparse)


def test_quiet_stretches_of_a_dense_model_have_errors_of_their_own() -> None:
    # Days forecast to get nothing: errors all on the upside, apart from intermittent spend's and a
    # dense team's, which both keep theirs as they were.
    dense = [(float(k % 5) - 2, _where(False)) for k in range(MIN_BUCKET)]
    sparse = [(float(k % 7) - 1, Where(0.5, intermittent=True)) for k in range(MIN_BUCKET)]
    quiet = [(float(k % 3), Where(0.5, quiet=True)) for k in range(MIN_BUCKET)]

    calibration = Calibration.of(dense + sparse + quiet, series=3, dispersion=0.2)

    assert calibration.errors_at(Where(0.5, quiet=True)).tolist() == sorted(e for e, _ in quiet)
    assert calibration.errors_at(Where(0.5, intermittent=True)).tolist() == sorted(e for e, _ in sparse)
    assert calibration.errors_at(_where(False)).tolist() == sorted(e for e, _ in dense)
    # Too few quiet errors of short histories: their history length's errors.
    assert len(calibration.errors_at(Where(0.5, short=True, quiet=True))) == len(dense + sparse + quiet)


def test_a_bucket_whose_errors_come_from_one_history_falls_back_to_a_coarser_one() -> None:
    dense = [(float(k % 5) - 2, _where(False)) for k in range(MIN_BUCKET)]
    sparse = [(0.0, Where(0.5, intermittent=True)) for _ in range(MIN_BUCKET)]  # one quiet history

    sources = [k % 2 for k in range(MIN_BUCKET)] + [2] * MIN_BUCKET
    calibration = Calibration.of(dense + sparse, series=3, dispersion=0.2, sources=sources)

    assert len(calibration.errors_at(Where(0.5, intermittent=True))) == len(dense) + len(sparse)
    assert calibration.errors_at(_where(False)).tolist() == sorted(e for e, _ in dense)


def test_the_95_interval_ends_take_the_finite_sample_position() -> None:
    errors = [(float(k), _where(False)) for k in range(1, 40)]  # 1..39

    calibration = Calibration.of(errors, series=2, dispersion=0.2)

    assert calibration.quantile(0.975, _where(False)) == pytest.approx(39.0)  # rank 0.975 x 40 = 39
    assert calibration.quantile(0.025, _where(False)) == pytest.approx(1.0)
    assert calibration.quantile(0.90, _where(False)) == pytest.approx(np.quantile(range(1, 40), 0.90))


def test_a_bucket_too_small_for_the_95_rank_falls_back_for_the_tails_only() -> None:
    early = [(float(k), _where(False)) for k in range(1, 36)]  # 35 errors: no rank 0.975 x 36 among them
    late = [(100.0 + k, _where(False, position=0.7)) for k in range(MIN_BUCKET)]

    calibration = Calibration.of(early + late, series=2, dispersion=0.2)

    assert calibration.quantile(0.90, _where(False)) == pytest.approx(np.quantile(range(1, 36), 0.90))
    # The 95% interval's ends come from the long histories' 65 errors at this load.
    everything = sorted(e for e, _ in early + late)
    assert calibration.quantile(0.975, _where(False)) == pytest.approx(
        np.quantile(everything, 0.975, method="weibull")
    )
    # 35 errors in all: the tails are the Student t's (scaled like the errors), not the largest error.
    few = Calibration.of(early, series=2, dispersion=0.2)
    assert few.quantile(0.975, _where(False)) == pytest.approx(
        Calibration.student_t().quantile(0.975, _where(False))
    )


def test_with_too_little_to_replay_the_tails_are_a_students_t() -> None:
    calibration = Calibration.student_t(0.2)

    assert calibration.quantile(0.975, _where(False)) > 3.0  # a normal's is 1.96


def _snap(months: list[float], elapsed: int = 0, month_to_date: int = 0) -> Snapshot:
    return Snapshot(
        AS_OF, [], np.asarray(months), origin=2026 * 12 + 8, elapsed_days=elapsed, month_to_date=month_to_date
    )


def test_a_one_month_history_takes_its_noise_from_the_company() -> None:
    snap = _snap([10_000.0])

    fit = borrow(forecast_months(snap.months, 3), snap, dispersion=0.3)

    assert fit.sigma == pytest.approx(3_000.0)
    assert any("pooled with the company" in note for note in fit.notes)


def test_a_two_month_history_weighs_its_own_noise_by_one_month_against_the_pool() -> None:
    snap = _snap([9_000.0, 11_000.0])
    own = forecast_months(snap.months, 3)

    fit = borrow(own, snap, dispersion=0.3)

    pooled = (0.3 * 10_000.0) ** 2
    assert fit.sigma == pytest.approx(np.sqrt((own.sigma**2 + PRIOR_MONTHS * pooled) / (1 + PRIOR_MONTHS)))


def test_with_no_complete_month_the_level_is_the_run_rate() -> None:
    snap = _snap([], elapsed=10, month_to_date=3_000)

    fit = borrow(forecast_months(snap.months, 2), snap, dispersion=0.2)

    assert fit.mean.tolist() == pytest.approx([9_000.0, 9_000.0])  # September: 30 days at 300 a day
    assert fit.sigma == pytest.approx(1_800.0)


def test_a_history_of_empty_months_takes_the_company_level_for_its_noise() -> None:
    snap = _snap([0.0, 0.0])

    fit = borrow(forecast_months(snap.months, 3), snap, dispersion=0.2, company_level=10_000.0)

    assert fit.sigma == pytest.approx(np.sqrt(PRIOR_MONTHS * 2_000.0**2 / (1 + PRIOR_MONTHS)), rel=1e-3)


def test_a_long_history_borrows_nothing() -> None:
    snap = _snap([10_000.0 + 100 * k for k in range(12)])
    fit = forecast_months(snap.months, 3)

    assert borrow(fit, snap, dispersion=0.5) is fit


def _history(level: float, seed: int, first: dt.date = dt.date(2024, 1, 1)) -> ScopeHistory:
    rng = random.Random(seed)
    daily = {}
    day = first
    while day <= AS_OF:
        if day.weekday() < 5:
            daily[day] = round(level / 21 * rng.uniform(0.5, 1.5))
        day += dt.timedelta(days=1)
    return ScopeHistory(daily=daily, first_day=first)


def test_the_calibration_replays_long_and_short_histories_and_pools_their_noise() -> None:
    histories = [_history(level, seed) for seed, level in enumerate((20_000_00, 50_000_00, 8_000_00))]

    calibration = calibrate(histories, AS_OF)

    assert calibration.calibrated
    assert calibration.series == 3
    assert {key[0] for key in calibration.buckets} == {0, 1}  # long and short histories both
    # Daily noise of +-50% makes months of about 6% noise: the pooled dispersion says so.
    assert 0.04 < calibration.dispersion < 0.1


def test_the_calibration_replays_up_to_18_histories_spread_over_the_company() -> None:
    # Calderdale's 63 expense areas read by 11 (at most 12) gave errors too narrow (docs/forecasting.md).
    histories = [_history(10_000_00 + 1_000_00 * k, k, first=dt.date(2025, 9, 1)) for k in range(30)]

    calibration = calibrate(histories, AS_OF)

    assert calibration.series == 15  # every other one (at most 12: every third, 10)


def test_the_quiet_share_counts_the_thirds_of_a_month_with_no_spend() -> None:
    # A purchase on the 5th of each month since January: one third in three has spend.
    variable = {dt.date(2026, month, 5): 100_00 for month in range(1, 9)}

    share = quiet_share(variable, dt.date(2026, 1, 1), dt.date(2026, 8, 31))

    assert share == pytest.approx((16 + 0.5) / (24 + 1))  # Jan..Aug: 24 thirds, 16 empty
    assert quiet_share({}, dt.date(2026, 8, 20), dt.date(2026, 8, 31)) == pytest.approx(1.5 / 2)  # Aug 21-31


def test_days_a_scope_is_unlikely_to_spend_on_get_no_variable_spend() -> None:
    fit = MonthlyForecast(np.full(3, 3_000.0), 500.0, "test")
    snap = replace(_snap([3_000.0] * 12, elapsed=27), as_of=dt.date(2026, 9, 27), quiet=0.6)  # 60% empty

    last_days = expect(snap, fit, dt.date(2026, 7, 1), dt.date(2026, 9, 30))  # Sep 28-30: 0.6^0.3 > 0.5
    next_month = expect(snap, fit, dt.date(2026, 7, 1), dt.date(2026, 10, 31))  # + October: 0.6^3.3

    assert last_days.variable == 0.0
    assert [share.load for share in last_days.months] == pytest.approx([0.1 * (1 - 0.9 / 2)])  # uncertain
    assert last_days.where.quiet  # calibrated with quiet days' errors
    assert not last_days.where.intermittent  # ... not with intermittent spend's
    assert not next_month.where.quiet
    assert next_month.variable > 3_000.0


def test_the_quiet_share_leaves_the_third_still_running_out() -> None:
    variable = {dt.date(2026, 8, 5): 100_00, dt.date(2026, 8, 25): 100_00}

    share = quiet_share(variable, dt.date(2026, 8, 1), dt.date(2026, 8, 27))

    assert share == pytest.approx((1 + 0.5) / (2 + 1))  # Aug 1-10 spent, 11-20 empty; 21-31 not over


def _weekday_spend(
    first: dt.date, last: dt.date, monthly: Callable[[dt.date], float], seed: int
) -> ScopeHistory:
    """Spend every weekday around `monthly(day)` / 21, +-50% a day."""
    rng, daily, day = random.Random(seed), {}, first
    while day <= last:
        if day.weekday() < 5:
            daily[day] = round(monthly(day) / 21 * rng.uniform(0.5, 1.5))
        day += dt.timedelta(days=1)
    return ScopeHistory(daily=daily, first_day=first)


def _pull(swing: float) -> float:
    """How far the rest of a December at 40% of the usual month, half gone, is forecast from the model's
    share of the month towards the run rate's (0: the model's, 1: the run rate's)."""
    as_of = dt.date(2025, 12, 15)

    def monthly(day: dt.date) -> float:
        return 30_000_00 * (0.4 if (day.year, day.month) == (2025, 12) else 1 + swing * (-1) ** day.month)

    snap = snapshot(_weekday_spend(dt.date(2024, 6, 1), as_of, monthly, seed=3), as_of)
    fit = fit_for(snap, dt.date(2025, 12, 31))
    rest = expect(snap, fit, dt.date(2025, 12, 1), dt.date(2025, 12, 31)).variable
    gone = UNIFORM.share(dt.date(2025, 12, 1), as_of)
    by_model, by_run_rate = (1 - gone) * float(fit.mean[0]), (1 - gone) * snap.month_to_date / gone
    assert by_run_rate < by_model * 0.6
    return (by_model - rest) / (by_model - by_run_rate)


def test_the_rest_of_a_month_follows_its_run_rate_as_far_as_the_model_is_less_sure() -> None:
    # A scope too young for a season, in a December at 40% of its usual month: the month-to-date says
    # so. Months that swing +-30% leave the model's month unsure, and the run rate (a fortnight of days
    # of +-50%) counts for most of the rest; a steady scope's model counts for more.
    swinging, steady = _pull(0.3), _pull(0.0)

    assert swinging > 0.75
    assert 0 < steady < swinging

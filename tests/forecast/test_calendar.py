"""The within-period calendar on companies of known daily shape: the remainder of a period goes to the
days the company spends on, the projected overrun date to a working day, late December gets its drop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pytest

from server.kit.countries import public_holidays
from tools.forecast.calendar import UNIFORM, CompanyDays, learn
from tools.forecast.engine import Calibration
from tools.forecast.history import ScopeHistory
from tools.forecast.projection import project

GB = partial(public_holidays, "GB")
FIRST = dt.date(2023, 1, 1)
CHRISTMAS_EVE = dt.date(2026, 12, 24)  # a Thursday; the 25th, 26th and 28th are GB holidays


def office_days(last: dt.date, amount: Callable[[dt.date], int] = lambda day: 100_00) -> dict[dt.date, int]:
    """Spend on working days only (a little noise, none on weekends, 5% on GB holidays)."""
    daily = {}
    for n in range((last - FIRST).days + 1):
        day = FIRST + dt.timedelta(days=n)
        if day.weekday() < 5:
            noise = 1 + (day.toordinal() * 37 % 11 - 5) / 50
            daily[day] = round(amount(day) * noise * (0.05 if day in GB(day.year) else 1))
    return daily


def team(daily: dict[dt.date, int], calendar: CompanyDays | None) -> ScopeHistory:
    return ScopeHistory(daily=daily, first_day=FIRST, calendar=calendar)


def test_weekends_and_holidays_weigh_what_the_company_spends_on_them() -> None:
    profile = learn(office_days(dt.date(2026, 6, 30)), dt.date(2026, 7, 1), "GB", GB)

    saturday, friday = dt.date(2026, 12, 19), dt.date(2026, 12, 18)
    assert profile.weight(saturday) == 0
    assert profile.weight(CHRISTMAS_EVE) == pytest.approx(profile.weight(friday), rel=0.15)
    assert profile.weight(dt.date(2026, 12, 25)) < 0.1 * profile.weight(CHRISTMAS_EVE)
    # A month's remainder goes to its working days: the last weekend of July gets none of it.
    assert profile.share(dt.date(2026, 7, 25), dt.date(2026, 7, 26)) == 0
    assert profile.share(dt.date(2026, 7, 27), dt.date(2026, 7, 31)) == pytest.approx(5 / 23, rel=0.1)
    assert "GB public holidays (0.0" in profile.describe()


def test_without_a_country_there_are_no_holidays_and_without_history_no_profile() -> None:
    daily = office_days(dt.date(2026, 6, 30))

    profile = learn(daily, dt.date(2026, 7, 1), None)

    assert profile.weight(dt.date(2026, 12, 25)) == pytest.approx(profile.weight(dt.date(2026, 12, 24)), 0.15)
    assert "no public holidays (the company has no country)" in profile.describe()
    assert learn(daily, dt.date(2023, 3, 1), "GB", GB) == UNIFORM  # two complete months: too few


def test_the_overrun_date_lands_on_a_working_day() -> None:
    daily = office_days(dt.date(2026, 12, 23))
    spent = sum(amount for day, amount in daily.items() if day >= dt.date(2026, 12, 1))
    budget = spent + 150_00  # a day and a half of spend more
    december = (dt.date(2026, 12, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 23), budget)
    calendar = CompanyDays(daily, "GB", GB)

    weighted = project(team(daily, calendar), *december, Calibration.student_t())
    even = project(team(daily, None), *december, Calibration.student_t())

    # The 24th, then a holiday, the weekend and the substitute holiday: the budget goes on the 29th.
    assert weighted.overrun_date == dt.date(2026, 12, 29)
    assert even.overrun_date is not None
    assert even.overrun_date < dt.date(2026, 12, 29)
    assert weighted.expected < even.expected  # four working days left, not eight days


def test_the_late_december_drop_is_expected_from_past_decembers() -> None:
    def quiet_christmas(day: dt.date) -> int:
        return 30_00 if day.month == 12 and day.day > 15 else 100_00

    daily = office_days(dt.date(2026, 12, 16), quiet_christmas)
    truth = office_days(dt.date(2026, 12, 31), quiet_christmas)
    actual = sum(amount for day, amount in truth.items() if day >= dt.date(2026, 12, 1))
    december = (dt.date(2026, 12, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 16), None)

    weighted = project(team(daily, CompanyDays(daily, "GB", GB)), *december, Calibration.student_t())
    even = project(team(daily, None), *december, Calibration.student_t())

    assert abs(weighted.expected / actual - 1) < 0.08  # three Decembers, shrunk a little
    assert even.expected / actual - 1 > 0.15
    assert "22nd on of Dec" in weighted.snapshot.profile.describe([12])

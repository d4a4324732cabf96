"""Anniversary renewals of a large charge seen once so far (tools/forecast/renewal.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from tools.forecast.engine import Calibration
from tools.forecast.history import Charge, ScopeHistory
from tools.forecast.logic import method
from tools.forecast.projection import project
from tools.forecast.renewal import RenewalRate, renewal_rate

FIRST, AS_OF = dt.date(2024, 1, 1), dt.date(2026, 3, 1)
START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
DAILY = 1_000_00  # a month of ~30,000.00: a charge of 3,000.00 and more is large
LICENCE = Charge(10, "LicenceCo", dt.date(2025, 3, 15), 12_000_00)


def _team(charges: tuple[Charge, ...] = (), singles: tuple[Charge, ...] = ()) -> ScopeHistory:
    daily: dict[dt.date, int] = {}
    day = FIRST
    while day <= AS_OF:
        daily[day] = DAILY
        day += dt.timedelta(days=1)
    for charge in (*charges, *singles):
        daily[charge.on] += charge.amount_minor
    return ScopeHistory(daily, FIRST, tuple(sorted(charges, key=lambda c: c.on)), singles=singles)


def _company(renewing: bool, teams: int = 5) -> list[ScopeHistory]:
    """Teams each with a large charge in 2024: charged again a year later (renewing) or never again."""
    histories = []
    for n in range(teams):
        first = Charge(20 + n, f"Vendor {n}", dt.date(2024, 4 + n, 10), (8_000 + 500 * n) * 100)
        if renewing:
            again = replace(first, on=first.on + dt.timedelta(days=365 + n))
            histories.append(_team(charges=(first, again)))
        else:
            histories.append(_team(singles=(first,)))
    return histories


def _calibration(histories: list[ScopeHistory]) -> Calibration:
    return replace(Calibration.student_t(), renewal=renewal_rate(histories, AS_OF))


def test_the_renewal_rate_counts_once_seen_large_charges_whose_anniversary_has_passed() -> None:
    assert renewal_rate(_company(renewing=True), AS_OF) == RenewalRate(renewed=5, cases=5)
    assert renewal_rate(_company(renewing=False), AS_OF) == RenewalRate(renewed=0, cases=5)
    # The licence itself (March 2025) has not reached the end of its anniversary window: not a case.
    assert renewal_rate([_team(singles=(LICENCE,))], AS_OF) == RenewalRate(0, 0)
    assert RenewalRate(0, 0).probability == 0.5  # nothing to learn from: the prior
    assert "too few" in RenewalRate(0, 0).describe()


def test_a_once_seen_licence_whose_anniversary_is_to_come_is_expected_with_the_companys_chance() -> None:
    team = _team(singles=(LICENCE,))
    calibration = _calibration([team, *_company(renewing=True)])
    without = project(replace(team, singles=()), START, END, AS_OF, 100_000_00, calibration)
    found = project(team, START, END, AS_OF, 100_000_00, calibration)
    [renewal] = found.renewals
    chance = 6 / 7  # 5 of 5 renewed, shrunk toward an even chance by two
    assert (renewal.merchant, renewal.on, renewal.probability) == ("LicenceCo", dt.date(2026, 3, 15), chance)
    spent = LICENCE.amount_minor
    assert found.spent == without.spent
    assert abs(found.expected - without.expected - round(chance * spent)) <= 1
    # The interval allows for the renewal coming or not: wider than without it, and holding both.
    low, high = found.intervals[0.95]
    without_low, without_high = without.intervals[0.95]
    assert high - low > without_high - without_low
    assert high >= without.expected + spent
    assert low <= without.expected + spent * 0.5
    assert (found.probability or 0.0) >= (without.probability or 0.0) > 0.0
    [note] = [n for n in method(found, [], "EUR").notes if n.startswith("anniversary renewal expected")]
    for said in ("LicenceCo", "12000.00 EUR once so far, on 2025-03-15", "around 2026-03-15", "at 86%"):
        assert said in note, note


def test_a_once_seen_charge_the_companys_history_says_does_not_renew_is_not_expected() -> None:
    team = _team(singles=(LICENCE,))
    calibration = _calibration([team, *_company(renewing=False)])
    assert calibration.renewal.probability < 0.2
    found = project(team, START, END, AS_OF, 100_000_00, calibration)
    without = project(replace(team, singles=()), START, END, AS_OF, 100_000_00, calibration)
    assert found.renewals == ()
    assert (found.expected, found.intervals) == (without.expected, without.intervals)
    assert not any(n.startswith("anniversary renewal") for n in method(found, [], "EUR").notes)


def test_an_anniversary_outside_the_days_to_come_is_not_expected() -> None:
    team = _team(singles=(LICENCE,))
    calibration = _calibration([team, *_company(renewing=True)])
    assert project(team, START, END, dt.date(2026, 3, 20), None, calibration).renewals == ()  # passed
    assert project(team, START, dt.date(2026, 2, 28), dt.date(2026, 2, 1), None, calibration).renewals == ()


def test_a_small_one_off_is_not_looked_at() -> None:
    small = replace(LICENCE, amount_minor=1_000_00)  # a thirtieth of a month
    calibration = _calibration(_company(renewing=True))
    assert project(_team(singles=(small,)), START, END, AS_OF, None, calibration).renewals == ()


def test_a_charge_read_both_as_a_repeat_candidate_and_as_a_single_counts_once() -> None:
    team = _team(charges=(LICENCE,), singles=(LICENCE,))  # charged before the window as well
    calibration = _calibration(_company(renewing=True))
    [renewal] = project(team, START, END, AS_OF, None, calibration).renewals
    assert renewal.first == LICENCE.on

"""Period syntax shared by summarize_spend and the budget resources."""

from __future__ import annotations

import datetime as dt

import pytest

from server.errors import InvalidArgument
from server.kit.periods import Period, month_to_date, months_in, parse_period, period_label


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026", Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026")),
        ("2026-q4", Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026-Q4")),
        ("2028-02", Period(dt.date(2028, 2, 1), dt.date(2028, 2, 29), "2028-02")),
    ],
)
def test_named_periods(text: str, period: Period) -> None:
    assert parse_period(text) == period
    assert period_label(period.start, period.end) == period.label


@pytest.mark.parametrize("text", ["26", "2026-Q5", "2026-13", "2026-7", "July 2026", ""])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match="use a year"):
        parse_period(text)


def test_free_ranges_and_month_to_date() -> None:
    assert period_label(dt.date(2026, 2, 1), dt.date(2026, 4, 30)) == "2026-02-01..2026-04-30"
    assert month_to_date(dt.date(2026, 7, 20)) == Period(
        dt.date(2026, 7, 1), dt.date(2026, 7, 20), "2026-07 to date (2026-07-20)"
    )
    assert months_in(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        (2025, 11),
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]

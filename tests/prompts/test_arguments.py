"""The periods and dates the prompts compute from their arguments (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from prompts.workflows.arguments import compared, previous, since
from server.errors import InvalidArgument
from server.kit.periods import parse_period


@pytest.mark.parametrize(
    ("period", "before"),
    [
        ("2026-01", "2025-12"),
        ("2026-03", "2026-02"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026", "2025"),
    ],
)
def test_the_period_before_is_of_the_same_kind(period: str, before: str) -> None:
    assert previous(parse_period(period)) == parse_period(before)


@pytest.mark.parametrize(
    ("period", "today", "span", "label"),
    [
        ("2026-10", dt.date(2026, 11, 20), ("2026-09-01", "2026-09-30"), "2026-09"),  # over: all of it
        ("2026-11", dt.date(2026, 11, 20), ("2026-10-01", "2026-10-20"), "the first 20 days of 2026-10"),
        ("2026-03", dt.date(2026, 3, 31), ("2026-02-01", "2026-02-28"), "2026-02"),  # its last day: over
        ("2026-03", dt.date(2026, 3, 30), ("2026-02-01", "2026-02-28"), "2026-02"),  # longer than February
        ("2026-03", dt.date(2026, 3, 27), ("2026-02-01", "2026-02-27"), "the first 27 days of 2026-02"),
        ("2026-Q4", dt.date(2026, 11, 20), ("2026-07-01", "2026-08-20"), "the first 51 days of 2026-Q3"),
        ("2027", dt.date(2026, 11, 20), ("2026-01-01", "2026-12-31"), "2026"),  # not started: all of it
    ],
)
def test_a_running_period_is_compared_with_as_many_days_of_the_one_before(
    period: str, today: dt.date, span: tuple[str, str], label: str
) -> None:
    found = compared(parse_period(period), today)

    assert (found.start.isoformat(), found.end.isoformat(), found.label) == (*span, label)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-10-05", "2026-10-05"),
        (" 2026-10 ", "2026-10-01"),
        ("2026-q3", "2026-07-01"),
        ("2026", "2026-01-01"),
    ],
)
def test_since_is_a_date_or_the_first_day_of_a_period(text: str, day: str) -> None:
    assert since(text) == dt.date.fromisoformat(day)


@pytest.mark.parametrize("text", ["2026-13-01", "10/05/2026", "2026-W40", ""])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^since: .* use a date YYYY-MM-DD"):
        since(text)

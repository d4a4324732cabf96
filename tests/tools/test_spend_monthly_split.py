"""How summarize_spend splits a period between the monthly rollup (whole months) and the expenses (the
days at either edge): pure, no database."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from server.kit.periods import PeriodSplit, split_period

D = dt.date


@pytest.mark.parametrize(
    ("start", "end", "split"),
    [
        (D(2025, 1, 1), D(2025, 12, 31), PeriodSplit((D(2025, 1, 1), D(2025, 12, 1)), ())),
        (D(2026, 7, 1), D(2026, 7, 31), PeriodSplit((D(2026, 7, 1), D(2026, 7, 1)), ())),
        (
            D(2025, 12, 15),
            D(2026, 2, 10),
            PeriodSplit(
                (D(2026, 1, 1), D(2026, 1, 1)),
                ((D(2025, 12, 15), D(2025, 12, 31)), (D(2026, 2, 1), D(2026, 2, 10))),
            ),
        ),
        (
            D(2026, 3, 1),
            D(2026, 4, 20),
            PeriodSplit((D(2026, 3, 1), D(2026, 3, 1)), ((D(2026, 4, 1), D(2026, 4, 20)),)),
        ),
        (
            D(2026, 2, 2),
            D(2026, 3, 31),
            PeriodSplit((D(2026, 3, 1), D(2026, 3, 1)), ((D(2026, 2, 2), D(2026, 2, 28)),)),
        ),
        (D(2028, 2, 1), D(2028, 2, 29), PeriodSplit((D(2028, 2, 1), D(2028, 2, 1)), ())),
    ],
)
def test_whole_months_from_the_rollup_and_the_edges_from_the_expenses(
    start: dt.date, end: dt.date, split: PeriodSplit
) -> None:
    assert split_period(start, end) == split


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2026, 2, 10), D(2026, 2, 10)),  # one day
        (D(2026, 7, 1), D(2026, 7, 20)),  # this month to date
        (D(2026, 1, 2), D(2026, 1, 31)),  # all but the first day
        (D(2026, 1, 15), D(2026, 2, 14)),  # a month's length across two months
    ],
)
def test_a_period_without_a_whole_month_is_one_edge(start: dt.date, end: dt.date) -> None:
    assert split_period(start, end) == PeriodSplit(None, ((start, end),))


def test_the_months_and_the_edges_cover_every_day_once() -> None:
    draw = random.Random(6)
    for _ in range(2000):
        start = D(2024, 1, 1) + dt.timedelta(days=draw.randrange(1200))
        end = start + dt.timedelta(days=draw.randrange(800))
        split = split_period(start, end)
        days = [day for a, b in split.edges for day in _days(a, b)]
        if split.months is not None:
            first, last = split.months
            assert first.day == last.day == 1
            days += _days(
                first, (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            )
        assert sorted(days) == _days(start, end)
        assert all(a.day != 1 or b.month == (b + dt.timedelta(days=1)).month for a, b in split.edges)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]

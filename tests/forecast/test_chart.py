"""The forecast chart: a real PNG of the promised size, with and without a budget, open and closed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Literal

import pytest
from matplotlib.image import imread

from tools.forecast.chart import render_chart, subtitle, title
from tools.forecast.schemas import (
    BudgetForecast,
    Components,
    Interval,
    Method,
    MonthPoint,
    Outlook,
    PeriodEnd,
)

Kind = Literal["actual", "partial", "forecast"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Q4 = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def _actual(month: str, amount: str) -> MonthPoint:
    return MonthPoint(month=month, kind="actual", actual=amount, expected=amount, interval_80=None)


def _ahead(month: str, actual: str, expected: str, low: str, high: str) -> MonthPoint:
    kind: Kind = "forecast" if month > "2026-11" else "partial"
    interval = Interval(low=low, high=high)
    return MonthPoint(month=month, kind=kind, actual=actual, expected=expected, interval_80=interval)


RUNNING = [
    _actual("2026-10", "41250.00"),
    _ahead("2026-11", "30100.00", "44800.00", "40100.00", "49900.00"),
    _ahead("2026-12", "0.00", "46000.00", "38000.00", "55000.00"),
]
CLOSED = [_actual("2026-10", "41250.00"), _actual("2026-11", "44800.00"), _actual("2026-12", "39999.99")]


def _forecast(
    months: list[MonthPoint],
    *,
    budget: str | None = "120000.00",
    outlook: Outlook = "likely_over",
    probability: float | None = 0.62,
    category: str | None = None,
) -> BudgetForecast:
    expected = str(sum((Decimal(month.expected) for month in months), Decimal(0)))
    return BudgetForecast(
        team="Marketing",
        category=category,
        period="2026-Q4",
        date_from=Q4[0],
        date_to=Q4[1],
        as_of=dt.date(2026, 11, 27),
        currency="EUR",
        budget=budget,
        outlook=outlook,
        spent_to_date="71350.00",
        remaining_budget=None,
        forecast=PeriodEnd(
            expected=expected,
            interval_80=Interval(low="121000.00", high="143500.00"),
            interval_95=Interval(low="115000.00", high="150000.00"),
        ),
        overrun_probability=probability,
        expected_overrun=None,
        projected_overrun_date=None,
        components=Components(spent_to_date="71350.00", committed="0.00", known="0.00", variable="0.00"),
        recurring=[],
        months=months,
        drivers=[],
        method=Method(variable_model="test", history_months=0, intervals="test", notes=[]),
    )


def _decoded_shape(png: bytes) -> tuple[int, ...]:
    assert png.startswith(PNG_SIGNATURE)
    return tuple(imread(io.BytesIO(png)).shape)


@pytest.mark.parametrize(
    "forecast",
    [
        _forecast(RUNNING),
        _forecast(RUNNING, budget=None, outlook="no_budget", probability=None, category="TRAVEL"),
        _forecast(CLOSED, outlook="closed"),
        _forecast(
            [_actual("2026-10", "41250.00"), _ahead("2026-11", "0.00", "44800.00", "0.00", "51000.00")]
        ),
    ],
    ids=["running", "no-budget", "closed", "nothing-spent-this-month"],
)
def test_the_chart_is_an_800_by_450_png(forecast: BudgetForecast) -> None:
    assert _decoded_shape(render_chart(forecast)) == (450, 800, 4)


def test_the_title_names_the_scope_period_and_outlook() -> None:
    assert title(_forecast(RUNNING)) == "Marketing — 2026-Q4: likely_over"
    assert title(_forecast(RUNNING, category="TRAVEL")) == "Marketing · TRAVEL — 2026-Q4: likely_over"


def test_the_subtitle_gives_the_overrun_probability_or_says_there_is_no_budget() -> None:
    assert subtitle(_forecast(RUNNING)) == (
        "as of 2026-11-27 · expected 132,050.00 EUR · overrun probability 62%"
    )
    assert subtitle(_forecast(RUNNING, budget=None, probability=None)) == (
        "as of 2026-11-27 · expected 132,050.00 EUR · no budget"
    )

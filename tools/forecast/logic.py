"""Pure pieces of the forecast use cases: which period and budget a question means, and the answer's shape."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from server.kit.money import format_amount
from server.kit.periods import Period, date_range, parse_period
from tools.forecast.history import month_start
from tools.forecast.projection import LEVELS, Projection
from tools.forecast.queries import BudgetRow
from tools.forecast.renewal import Renewal
from tools.forecast.schemas import (
    BudgetForecast,
    BudgetRanking,
    BudgetRisk,
    Components,
    Interval,
    Method,
    MonthPoint,
    PeriodEnd,
    RecurringCharge,
)


def quarter_of(day: dt.date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def budget_for(period: Period, budgets: Sequence[BudgetRow]) -> tuple[int | None, str | None]:
    """The budget of exactly `period`: one budget for it, or budgets that tile it (four quarters make a
    year). Otherwise no amount, and a note naming the budgets there are."""
    exact = [b for b in budgets if b.start == period.start and b.end == period.end]
    if exact:
        return exact[0].amount_minor, None
    inside = sorted(
        (b for b in budgets if b.start >= period.start and b.end <= period.end), key=lambda b: b.start
    )
    if inside and inside[0].start == period.start and inside[-1].end == period.end and _contiguous(inside):
        return sum(
            b.amount_minor for b in inside
        ), f"budget: the sum of {len(inside)} budgets within the period"
    if budgets:
        spans = ", ".join(date_range(b.start, b.end).label for b in budgets)
        return None, f"no budget for exactly {period.label}; budgets overlapping it: {spans}"
    return None, None


def _contiguous(budgets: Sequence[BudgetRow]) -> bool:
    return all(
        later.start == earlier.end + dt.timedelta(days=1) for earlier, later in itertools.pairwise(budgets)
    )


def interval(pair: tuple[int, int], currency: str) -> Interval:
    return Interval(low=format_amount(pair[0], currency), high=format_amount(pair[1], currency))


def period_end(projection: Projection, currency: str) -> PeriodEnd:
    return PeriodEnd(
        expected=format_amount(projection.expected, currency),
        interval_80=interval(projection.intervals[LEVELS[0]], currency),
        interval_95=interval(projection.intervals[LEVELS[1]], currency),
    )


def components(projection: Projection, currency: str) -> Components:
    return Components(
        spent_to_date=format_amount(projection.spent, currency),
        committed=format_amount(projection.committed, currency),
        known=format_amount(projection.known, currency),
        variable=format_amount(projection.variable, currency),
    )


def recurring_charges(projection: Projection, currency: str) -> list[RecurringCharge]:
    after = max(projection.as_of, projection.start - dt.timedelta(days=1))
    return [
        RecurringCharge(
            merchant=series.merchant,
            amount=format_amount(series.amount_minor, currency),
            cadence=series.cadence,
            last_charged=series.last,
            next_charges=series.next_dates(after, projection.end),
        )
        for series in projection.snapshot.recurring
    ]


def month_points(projection: Projection, currency: str) -> list[MonthPoint]:
    current = projection.as_of
    points = []
    for month in projection.months:
        first = month_start(month.index)
        kind = "forecast" if first > current else "actual" if month.interval_80 is None else "partial"
        points.append(
            MonthPoint(
                month=f"{first:%Y-%m}",
                kind=kind,
                actual=format_amount(month.actual, currency),
                expected=format_amount(month.expected, currency),
                interval_80=None if month.interval_80 is None else interval(month.interval_80, currency),
            )
        )
    return points


def method(projection: Projection, notes: Sequence[str], currency: str) -> Method:
    fit = projection.fit
    all_notes = [*(fit.notes if fit else ()), *notes]
    all_notes.extend(renewal_note(renewal, projection, currency) for renewal in projection.renewals)
    if projection.closed:
        all_notes.append("the period is over: actuals only")
    else:
        to_come = [month_start(path.index).month for path in projection.months if path.interval_80]
        all_notes.append(projection.snapshot.profile.describe(to_come))
    return Method(
        variable_model=fit.method if fit else "none (period closed)",
        history_months=len(projection.snapshot.months),
        intervals=projection.calibration.describe(),
        notes=all_notes,
    )


def renewal_note(renewal: Renewal, projection: Projection, currency: str) -> str:
    amount = format_amount(renewal.amount_minor, currency)
    return (
        f"anniversary renewal expected: {renewal.merchant} charged {amount} {currency} once so far, on "
        f"{renewal.first}; a renewal around {renewal.on} is counted at "
        f"{renewal.probability:.0%} of it ({projection.calibration.renewal.describe()}), and the interval "
        "allows for it coming or not"
    )


def expected_overrun(projection: Projection, currency: str) -> str | None:
    if projection.budget is None or projection.expected <= projection.budget:
        return None
    return format_amount(projection.expected - projection.budget, currency)


def risk(row: BudgetRow, projection: Projection, currency: str) -> BudgetRisk:
    return BudgetRisk(
        team=row.team,
        category=row.category,
        period=date_range(row.start, row.end).label,
        budget=format_amount(row.amount_minor, currency),
        spent_to_date=format_amount(projection.spent, currency),
        expected=format_amount(projection.expected, currency),
        interval_80=interval(projection.intervals[LEVELS[0]], currency),
        overrun_probability=round(projection.probability or 0.0, 3),
        expected_overrun=expected_overrun(projection, currency),
        projected_overrun_date=projection.overrun_date,
        outlook=projection.outlook,
    )


def risk_order(item: tuple[BudgetRow, Projection]) -> tuple[float, int, str, str]:
    row, projection = item
    over = projection.expected - row.amount_minor
    return (-(projection.probability or 0.0), -over, row.team, row.category or "")


def forecast_text(forecast: BudgetForecast) -> str:
    """One paragraph a manager can read: the outlook first, then the numbers behind it."""
    cur = forecast.currency
    scope = forecast.team + (f" / {forecast.category}" if forecast.category else "")
    end = forecast.forecast
    lines = [
        f"{scope}, {forecast.period} (as of {forecast.as_of}): {forecast.outlook.replace('_', ' ')}.",
        f"Spent {forecast.spent_to_date} {cur}"
        + (f" of a {forecast.budget} {cur} budget" if forecast.budget else " (no budget for this period)")
        + f"; expected at period end {end.expected} {cur} (80%: {end.interval_80.low}-"
        f"{end.interval_80.high}, 95%: {end.interval_95.low}-{end.interval_95.high}).",
    ]
    if forecast.overrun_probability is not None:
        chance = f"Overrun probability {forecast.overrun_probability:.0%}"
        if forecast.projected_overrun_date:
            chance += f"; the budget is passed on {forecast.projected_overrun_date} on the expected path"
        lines.append(chance + ".")
    for comparison in forecast.drivers[:1]:
        if comparison.categories:
            top = comparison.categories[0]
            lines.append(
                f"Biggest change vs {comparison.against.replace('_', ' ')}: {top.name} {top.change} {cur}."
            )
    return " ".join(lines)


def ranking_text(ranking: BudgetRanking) -> str:
    if not ranking.budgets:
        return f"No budgets {'in ' + ranking.period if ranking.period else 'running'} as of {ranking.as_of}."
    worst = ranking.budgets[0]
    scope = worst.team + (f" / {worst.category}" if worst.category else "")
    return (
        f"{ranking.count} budgets as of {ranking.as_of}; {ranking.at_risk} at risk or over. Highest risk: "
        f"{scope} {worst.period} ({worst.overrun_probability:.0%}, expected {worst.expected} of "
        f"{worst.budget} {ranking.currency})."
    )

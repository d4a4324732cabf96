"""What forecast_budget and forecast_budgets accept and return (the public contract, DESIGN §4).

Every amount is a decimal string in the company currency (`currency` says which)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

Outlook = Literal["over_budget", "likely_over", "at_risk", "on_track", "closed", "no_budget"]
OUTLOOK_HELP = (
    "over_budget: spent more than the budget already; likely_over: overrun probability 50% or more; "
    "at_risk: 20% or more; on_track: below 20%; closed: the period has ended (actuals only); "
    "no_budget: nothing budgeted for this scope and period (forecast only)."
)


class Interval(BaseModel):
    low: str
    high: str


class PeriodEnd(BaseModel):
    """Total spend of the period at its end: what is spent plus what is forecast to come."""

    expected: str = Field(description="The forecast: spent to date plus the expected rest.")
    interval_80: Interval = Field(description="80% prediction interval of the period total.")
    interval_95: Interval = Field(description="95% prediction interval of the period total.")


class Components(BaseModel):
    """Where the expected total comes from."""

    spent_to_date: str
    committed: str = Field(description="Recurring charges (subscriptions) still to bill in the period.")
    known: str = Field(description="Approved purchase requests not spent yet.")
    variable: str = Field(description="Expected other spend for the rest of the period.")


class RecurringCharge(BaseModel):
    merchant: str
    amount: str = Field(description="Typical charge.")
    cadence: Literal["weekly", "monthly", "quarterly", "yearly"]
    last_charged: dt.date
    next_charges: list[dt.date] = Field(description="Projected charges from tomorrow to the period end.")


class MonthPoint(BaseModel):
    month: str = Field(description="YYYY-MM.")
    kind: Literal["actual", "partial", "forecast"] = Field(
        description="actual: the month is over; partial: the current month (actual to date plus forecast); "
        "forecast: not started yet."
    )
    actual: str = Field(description="Spent in the month up to today ('0.00' for future months).")
    expected: str = Field(description="Expected month total (equals actual for past months).")
    interval_80: Interval | None = Field(description="80% interval of the month total; null for past months.")


class Driver(BaseModel):
    key: str | None = Field(
        description="Category code, merchant name or employee e-mail; null: uncategorized, or no employee."
    )
    name: str
    now: str = Field(description="Spent in this period to date.")
    before: str = Field(description="Spent over the same stretch of the compared period.")
    change: str = Field(description="now - before; positive pushes spend up.")


class Comparison(BaseModel):
    """This period to date against the same number of days of an earlier period."""

    against: Literal["previous_period", "same_period_last_year"]
    date_from: dt.date
    date_to: dt.date
    now: str = Field(description="Spent in this period to date.")
    before: str = Field(description="Spent from date_from to date_to.")
    change: str
    categories: list[Driver] = Field(description="Largest absolute changes first.")
    merchants: list[Driver]
    employees: list[Driver]


class Method(BaseModel):
    variable_model: str = Field(description="How variable spend was forecast, e.g. 'DynamicOptimizedTheta'.")
    history_months: int = Field(description="Complete months of history the model saw.")
    intervals: str = Field(description="How the intervals were calibrated.")
    notes: list[str] = Field(description="Fallbacks and caveats, in plain words.")


class BudgetForecast(BaseModel):
    team: str
    category: str | None = Field(description="Category code when the budget is for one category.")
    period: str = Field(description="2026-Q4, 2026-11, 2026 or an explicit date range.")
    date_from: dt.date
    date_to: dt.date
    as_of: dt.date = Field(description="The server's today: actuals up to and including this day.")
    currency: str
    budget: str | None = Field(description="The budget amount; null: no budget for this scope and period.")
    outlook: Outlook = Field(description=OUTLOOK_HELP)
    spent_to_date: str
    remaining_budget: str | None = Field(description="budget - spent_to_date (negative: already over).")
    forecast: PeriodEnd
    overrun_probability: float | None = Field(
        description="Probability that the period total exceeds the budget, from the same distribution as "
        "the intervals; null without a budget."
    )
    expected_overrun: str | None = Field(description="Expected total - budget when positive, else null.")
    projected_overrun_date: dt.date | None = Field(
        description="The day the expected path crosses the budget (or did); null if it does not."
    )
    components: Components
    recurring: list[RecurringCharge] = Field(description="Subscriptions and other recurring charges found.")
    months: list[MonthPoint] = Field(description="Every month of the period: actuals, then forecast.")
    drivers: list[Comparison] = Field(
        description="What changed against the previous period and the same period last year."
    )
    method: Method


class BudgetRisk(BaseModel):
    team: str
    category: str | None
    period: str
    budget: str
    spent_to_date: str
    expected: str
    interval_80: Interval
    overrun_probability: float
    expected_overrun: str | None
    projected_overrun_date: dt.date | None
    outlook: Outlook


class BudgetRanking(BaseModel):
    as_of: dt.date
    currency: str
    period: str | None = Field(description="The period asked for; null: every budget running today.")
    count: int = Field(description="Budgets ranked (before `top`).")
    at_risk: int = Field(description="How many are over_budget, likely_over or at_risk.")
    budgets: list[BudgetRisk] = Field(
        description="Highest overrun probability first, then largest expected overrun."
    )


@dataclass(frozen=True)
class ForecastRequest:
    """forecast_budget arguments as the agent gave them."""

    team: str
    category: str | None = None
    period: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

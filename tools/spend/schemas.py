"""What summarize_spend accepts and returns (the public contract, DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from server.db.values import FREE

# A free dimension of the company's expenses (a dim_<name> column of its import): "dim:fund".
FreeDimension = Annotated[str, StringConstraints(pattern=f"^{FREE}.+$")]
GroupBy = (
    Literal["category", "team", "merchant", "employee", "month", "cost_center", "project"] | FreeDimension
)


class SpendGroup(BaseModel):
    key: str | None = Field(
        description="Category code, team name, merchant name, employee e-mail, YYYY-MM, or the cost "
        "center, project or dimension value; null for the expenses without one (uncategorized, no cost "
        "center, ...)."
    )
    name: str = Field(
        description="Display name: category or team name, merchant, employee name, 'July 2026', the "
        "value itself; 'Uncategorized', 'No employee', 'No cost center', 'No project' or 'No <dimension>' "
        "for key null."
    )
    total: str = Field(description="Sum in company currency, a decimal string; refunds count negative.")
    count: int = Field(description="Number of expenses.")


class SpendFilters(BaseModel):
    team: str | None
    category: str | None = Field(description="Category code.")
    employee: str | None = Field(description="Employee e-mail.")


class SpendSummary(BaseModel):
    date_from: dt.date
    date_to: dt.date
    period: str = Field(description="The period covered: 2026, 2026-Q3, 2026-07, or an explicit date range.")
    group_by: GroupBy
    currency: str = Field(description="The company currency every total is in.")
    total: str = Field(description="Grand total over all groups, a decimal string.")
    count: int = Field(description="Number of expenses over all groups.")
    groups: list[SpendGroup] = Field(
        description="Largest total first, at most `top` of them (month: every month of the period in "
        "order, months without spend included with 0). Empty: no spend matched."
    )
    others: SpendGroup | None = Field(
        description="The groups beyond `top`, added together (key null, name 'N others'); null if none."
    )
    filters: SpendFilters


@dataclass(frozen=True)
class SummaryRequest:
    """summarize_spend arguments as the agent gave them."""

    group_by: GroupBy = "category"
    period: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: str | None = None
    category: str | None = None
    employee: str | None = None
    top: int = 25

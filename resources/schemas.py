"""The JSON documents the resources serve."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class PersonDoc(BaseModel):
    email: str
    name: str


class CategoryDoc(BaseModel):
    code: str
    name: str
    parent_code: str | None
    gl_account: str | None
    vat_rate: str | None = Field(description="Percent as a decimal string, e.g. '20' or '5.5'.")
    description: str | None
    mcc_codes: list[str]


class CategoriesDoc(BaseModel):
    company: str
    categories: list[CategoryDoc]


class TeamNode(BaseModel):
    name: str
    cost_center: str | None
    manager: PersonDoc | None
    headcount: int = Field(description="Active employees in this team itself, not counting sub-teams.")
    children: list[TeamNode]


class TeamsDoc(BaseModel):
    company: str
    teams: list[TeamNode] = Field(description="Top-level teams, each with its sub-teams nested.")


class PolicyDoc(BaseModel):
    company: str
    version: int
    created_at: dt.datetime
    policy: dict[str, Any]


class ExpensePolicyDoc(BaseModel):
    company: str
    loaded: bool = Field(
        description="False: no expense policy is loaded; the review looks for patterns only."
    )
    version: int | None = Field(description="The version in force (the highest loaded); null when none is.")
    currency: str = Field(description="The currency of the policy's amounts.")
    policy: dict[str, Any] = Field(
        description="The policy in force (expense_policy.json), its pattern settings filled in; without one, "
        "no rules and the default pattern settings."
    )
    note: str


class CategoryRefDoc(BaseModel):
    code: str
    name: str


class BudgetDoc(BaseModel):
    team: str
    category: CategoryRefDoc | None = Field(description="Null: the budget covers the team's whole spend.")
    period: str
    date_from: dt.date
    date_to: dt.date
    amount: str


class BudgetsDoc(BaseModel):
    company: str
    period: str
    date_from: dt.date
    date_to: dt.date
    currency: str
    budgets: list[BudgetDoc] = Field(description="Every budget whose own period overlaps the requested one.")


class ForecastsDoc(BaseModel):
    company: str
    taken_at: dt.datetime | None = Field(description="When the nightly job took the snapshot.")
    snapshot: dict[str, Any] | None = Field(description="forecast_budgets' answer for every running budget.")
    note: str | None = None

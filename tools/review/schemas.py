"""What review_expenses accepts and returns (docs/review.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, TypeAlias

from pydantic import BaseModel, Field

from server.kit.money import Money

Kind: TypeAlias = Literal[
    "receipt_required",
    "cap",
    "blocked",
    "weekend_spend",
    "keywords",
    "just_below_threshold",
    "duplicate",
    "split_purchase",
    "spike",
    "new_merchant",
    "round_numbers",
    "refund_without_charge",
]
SeverityName: TypeAlias = Literal["high", "medium", "low"]


class InvolvedExpense(BaseModel):
    id: str = Field(description="The expense's ref; pass it to get_expense for the full detail.")
    date: dt.date
    merchant: str
    employee: str | None = Field(description="Who spent (e-mail); null: the export named no one.")
    amount: Money = Field(description="In the company currency; negative: a refund.")


class ReviewFinding(BaseModel):
    kind: Kind = Field(description="The policy rule kind or the pattern found.")
    rule: str | None = Field(description="The policy rule's id; null for a pattern (found without a policy).")
    severity: SeverityName
    reason: str = Field(description="What was found and why it matters, in one sentence.")
    action: str = Field(description="What a person should do about it.")
    amount_at_stake: Money = Field(
        description="A cap's excess, a split's total, a duplicate's repeat, otherwise the expense's amount."
    )
    expenses: list[InvolvedExpense] = Field(description="The expenses involved, the flagged one first.")
    evidence: dict[str, str] = Field(
        description="The policy clause or the statistic and its threshold, as display strings."
    )


class ReviewScopeEcho(BaseModel):
    period: str | None = Field(description="The period reviewed (2026-07, 2026-Q3, ...); null: expense_ids.")
    date_from: dt.date | None
    date_to: dt.date | None
    team: str | None
    employee: str | None = Field(description="E-mail.")
    category: str | None = Field(description="Category code.")
    expense_ids: list[str] = Field(description="The expenses named; empty: the whole period.")


class ReviewOutput(BaseModel):
    findings: list[ReviewFinding] = Field(
        description="This page, most severe and largest first. Empty: nothing to look at (see `note`)."
    )
    summary: dict[str, int] = Field(description="Findings per kind over the whole scope, not just this page.")
    total: int = Field(description="Findings over the whole scope.")
    next_cursor: str | None = Field(
        description="Pass as `cursor`, with the same arguments, for the next page; null: this is the last."
    )
    expenses_reviewed: int = Field(description="Expenses in scope.")
    currency: str = Field(description="The company currency.")
    policy_version: int | None = Field(
        description="The expense policy version checked; null: none is loaded, only the patterns ran."
    )
    scope: ReviewScopeEcho
    note: str | None = Field(
        description="Why there is nothing, or what was not checked; null: nothing to add."
    )


@dataclass(frozen=True)
class ReviewRequest:
    """review_expenses arguments as the agent gave them."""

    period: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: str | None = None
    employee: str | None = None
    category: str | None = None
    expense_ids: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    min_severity: SeverityName | None = None
    limit: int = 25
    cursor: str | None = None

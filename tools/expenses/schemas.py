"""What search_expenses and get_expense accept and return (the public contract, DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from server.kit.money import Money

ExpenseStatusName = Literal["pending", "approved", "rejected", "reimbursed"]


class Person(BaseModel):
    email: str
    name: str


class CategoryRef(BaseModel):
    code: str
    name: str


class CategoryAssignment(BaseModel):
    code: str
    name: str
    source: str | None = Field(description="Who set it: human, rule, model or llm.")
    confidence: float | None = Field(
        description="0..1 for rule/model/llm assignments; null when set by a human."
    )


class ExpenseItem(BaseModel):
    id: str = Field(description="The company's id for the expense; pass it to get_expense.")
    date: dt.date
    employee: Person | None = Field(description="Who spent; null: the export named no one.")
    team: str
    merchant: str
    descriptor: str = Field(description="Raw card-statement text.")
    amount: Money = Field(description="As spent, in the transaction currency.")
    amount_company: Money = Field(description="Settled amount in the company currency.")
    category: CategoryAssignment | None = Field(description="Null: not categorized yet.")
    status: str
    receipt_attached: bool


class AppliedFilters(BaseModel):
    """The filters as resolved: the names, e-mails and codes the search actually used, each under the name
    of its search_expenses argument."""

    date_from: dt.date | None
    date_to: dt.date | None
    team: str | None
    employee: Person | None
    merchant: str | None = Field(description="The merchant text searched for, as given to `merchant`.")
    # Kept for the clients that read it: echoed under the argument's name since `merchant` (issue 19).
    merchant_text: str | None = Field(description="Deprecated: the same as `merchant`, which replaces it.")
    category: CategoryRef | None
    status: str | None
    min_amount: Money | None
    max_amount: Money | None
    uncategorized_only: bool
    missing_receipt: bool
    cost_center: str | None
    project: str | None
    dimensions: dict[str, str] = Field(description="Free dimension name -> value; empty: none.")


class SearchExpensesOutput(BaseModel):
    items: list[ExpenseItem] = Field(description="Newest first. Empty: nothing matched the filters.")
    next_cursor: str | None = Field(
        description="Pass as `cursor`, with the same filters, for the next page; null: this is the last page."
    )
    total_matched: int = Field(description="How many expenses match the filters across all pages.")
    total_matched_capped: bool = Field(
        default=False,
        description="True: more than total_matched expenses match. Filters on merchant text, amounts, "
        "status, employee, receipts, cost center, project or dimensions stop counting at 200; add a "
        "period or a team for an exact count.",
    )
    page_total: Money = Field(description="Sum of amount_company over the items of this page.")
    filters: AppliedFilters


class MerchantInfo(BaseModel):
    name: str
    mcc: str | None = Field(description="ISO 18245 merchant category code of the transaction.")
    mcc_description: str | None


class TeamInfo(BaseModel):
    name: str
    cost_center: str | None


class ApprovalDecisionInfo(BaseModel):
    step: int
    approver: Person
    on_behalf_of: Person | None = Field(description="Whom the approver stood in for (delegation), if anyone.")
    decision: str
    decided_at: dt.datetime


class ApprovalRequestInfo(BaseModel):
    id: str
    status: str
    requester: Person
    amount: Money
    submitted_at: dt.datetime
    decisions: list[ApprovalDecisionInfo] = Field(description="In step order; empty: nobody has decided yet.")


class ExpenseDetail(BaseModel):
    id: str
    date: dt.date
    descriptor: str
    memo: str | None
    amount: Money
    amount_company: Money
    status: str
    payment_type: str
    merchant: MerchantInfo
    category: CategoryAssignment | None = Field(description="Null: not categorized yet.")
    employee: Person | None = Field(description="Who spent; null: the export named no one.")
    team: TeamInfo
    receipt_attached: bool
    approvals: list[ApprovalRequestInfo] = Field(description="Approval requests that led to this expense.")
    cost_center: str | None = Field(
        description="The cost center the expense is charged to, as the company's export gave it (team "
        "has the team's own); null: none given."
    )
    project: str | None = Field(description="The project it is charged to; null: none.")
    dimensions: dict[str, str] = Field(
        description="The company's free analytical fields for this expense, name -> value (e.g. "
        '{"fund": "GF01"}); empty: none.',
    )

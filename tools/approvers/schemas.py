"""What suggest_approver accepts and returns (the public contract, DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from server.kit.money import Money

PaymentTypeName = Literal["card", "reimbursement", "invoice"]


class Person(BaseModel):
    email: str
    name: str


class Approver(BaseModel):
    """Someone who can take a step, with what the approval history says about them."""

    email: str
    name: str
    role: str
    team: str
    on_behalf_of: Person | None = Field(
        description="Whom this approver stands in for as their delegate; null: their own step."
    )
    approvals_for_team: int = Field(description="Decisions on this team's requests in the last 365 days.")
    approvals_for_category: int = Field(
        description="Decisions on requests of this category in the last 365 days."
    )
    median_decision_hours: float | None = Field(
        description="Their median time to decide, in hours; null: too few decisions to tell."
    )
    pending_requests: int = Field(description="Open approval requests waiting on them now.")


class CoveredRequirement(BaseModel):
    rule: str = Field(description="The policy rule that also required this approval.")
    requirement: str
    reason: str


class Decision(BaseModel):
    step: int
    approver: Person
    on_behalf_of: Person | None
    decision: str
    decided_at: dt.datetime


class ApprovalStep(BaseModel):
    step: int = Field(description="1, 2, ...: steps are decided in this order.")
    status: Literal["assigned", "no_eligible_approver", "approved", "rejected"] = Field(
        description="assigned: waiting on `approver`; approved / rejected: already decided on this stored "
        "request (see `decision`); no_eligible_approver: nobody may take this step (see reason), the chain "
        "cannot complete until the organisation data or the policy changes."
    )
    approver: Approver | None = Field(
        description="Who should act (who did, for a decided step); null when nobody is eligible."
    )
    alternates: list[Approver] = Field(
        description="Other eligible people for a step anyone of a group may take (finance, a shared "
        "role), best first. Empty for a step that names one person."
    )
    rule: str = Field(description="The policy rule (its name) that requires this step.")
    requirement: str = Field(description="The policy step, e.g. team_manager or manager_of:team_manager.")
    reason: str = Field(description="Why this person, in plain words (escalations and delegation included).")
    also_satisfies: list[CoveredRequirement] = Field(
        description="Other rules' requirements this same approval covers (nobody approves twice)."
    )
    expected_hours: float | None = Field(
        description="Typical hours this step takes, from the approver's (else the company's) history."
    )
    decision: Decision | None = Field(
        default=None, description="The decision recorded on this step of a stored request; null: not decided."
    )


class RequestInfo(BaseModel):
    """The request as understood: names resolved, amount converted."""

    id: str | None = Field(description="The approval request id; null for a request described by details.")
    requester: Person
    team: str = Field(description="The team charged.")
    category: str | None = Field(description="Category code; null when not given.")
    amount: Money
    amount_company: Money = Field(description="The amount in company currency: policy thresholds use it.")
    exchange_rate: str | None = Field(
        description="Company-currency units per unit of the request currency; null: no conversion needed."
    )
    payment_type: PaymentTypeName
    description: str | None
    status: str | None = Field(description="pending, approved or rejected; null for a request by details.")
    decisions: list[Decision] = Field(description="Decisions already recorded on the request, in step order.")


class SuggestApproverOutput(BaseModel):
    request: RequestInfo
    policy_version: int = Field(description="Version of the approval policy applied (the highest loaded).")
    as_of: dt.date = Field(description="The day absences and delegations were evaluated for.")
    rules_applied: list[str] = Field(description="The policy rules whose conditions hold, in policy order.")
    steps: list[ApprovalStep] = Field(
        description="The approval chain in order. Empty: no rule requires an approval."
    )
    complete: bool = Field(description="True when every step has an eligible approver.")
    expected_hours_to_full_approval: float | None = Field(
        description="Sum of the steps' typical hours (steps are decided one after the other); null when "
        "the chain is incomplete or there is no approval history."
    )


@dataclass(frozen=True)
class SuggestRequest:
    """suggest_approver arguments as the agent gave them (names not yet resolved)."""

    request_id: str | None = None
    requester: str | None = None
    amount: str | None = None
    currency: str | None = None
    category: str | None = None
    team: str | None = None
    payment_type: PaymentTypeName | None = None
    description: str | None = None

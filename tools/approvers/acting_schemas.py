"""What submit_spend_request and decide_approval return (the public contract, DESIGN §4)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.approvers.schemas import ApprovalStep, Person, SuggestApproverOutput

SubmitOutcome = Literal["filed", "would_file", "already_filed", "declined", "not_required"]
DecideOutcome = Literal["decided", "would_decide", "declined"]
DecisionName = Literal["approve", "reject"]
RequestStatus = Literal["pending", "approved", "rejected"]


class SubmitSpendRequestOutput(BaseModel):
    request_id: str | None = Field(
        description="The request's id (e.g. APR-00042): pass it to decide_approval or suggest_approver. "
        "Null when nothing was filed (a dry run, a declined confirmation, no approval required)."
    )
    outcome: SubmitOutcome = Field(
        description="filed: written now; already_filed: this idempotency key filed it before (nothing new "
        "written); would_file: dry run; declined: the user did not confirm; not_required: no rule of the "
        "policy requires an approval, so nothing is filed."
    )
    filed: bool = Field(description="True when this call wrote the request.")
    dry_run: bool
    status: RequestStatus | None = Field(description="The request's status; null when nothing is filed.")
    filed_by: str = Field(description="Who filed it: the person's e-mail, or the token's subject.")
    filed_on_behalf: bool = Field(
        description="True when a service (a token without a user) filed it for the requester."
    )
    waiting_on: ApprovalStep | None = Field(
        description="The first step: who must decide first. Null when nothing is filed for lack of a rule, "
        "and for a request filed before (already_filed: suggest_approver with its id says where it is)."
    )
    route: SuggestApproverOutput = Field(
        description="The request and its whole approval chain, as suggest_approver gives it."
    )
    message: str


class DecideApprovalOutput(BaseModel):
    request_id: str
    outcome: DecideOutcome = Field(
        description="decided: recorded now; would_decide: dry run, nothing written; declined: the user "
        "did not confirm, nothing written."
    )
    recorded: bool = Field(description="True when this call wrote the decision.")
    dry_run: bool
    step: int = Field(description="The step decided (1, 2, ...).")
    decision: DecisionName
    decided_by: Person
    on_behalf_of: Person | None = Field(
        description="Whose step it was, when the decider stands in for them as their delegate."
    )
    comment: str | None
    status: RequestStatus = Field(
        description="The request's status after this decision (what it would be, for a dry run)."
    )
    next_step: ApprovalStep | None = Field(
        description="Who decides next; null when the request is approved or rejected."
    )
    message: str

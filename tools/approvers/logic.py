"""Pure shaping of suggest_approver's answer: engine chain + history → output models and summary."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from server.db.models import utc
from server.kit.money import grouped
from tools.approvers.chain import Pick
from tools.approvers.engine import request_line
from tools.approvers.ranking import History, expected_total
from tools.approvers.schemas import (
    ApprovalStep,
    Approver,
    CoveredRequirement,
    Decision,
    PaymentTypeName,
    Person,
    RequestInfo,
    SuggestApproverOutput,
)

if TYPE_CHECKING:
    from server.db.models import ApprovalDecision, Employee
    from tools.approvers.chain import Chain, ChainStep
    from tools.approvers.org import Org, SpendRequest

PAYMENT_TYPES: dict[str, PaymentTypeName] = {
    "card": "card",
    "reimbursement": "reimbursement",
    "invoice": "invoice",
}


def payment_type(value: str) -> PaymentTypeName:
    return PAYMENT_TYPES[value]


def person(org: Org, email: str) -> Person:
    return Person(email=email, name=org.name(email))


def decision(row: ApprovalDecision, approver: Employee, on_behalf_of: Employee | None) -> Decision:
    return Decision(
        step=row.step,
        approver=Person(email=approver.email, name=approver.name),
        on_behalf_of=None
        if on_behalf_of is None
        else Person(email=on_behalf_of.email, name=on_behalf_of.name),
        decision=row.decision,
        decided_at=utc(row.decided_at),
    )


def approver(org: Org, history: History, spend: SpendRequest, pick: Pick) -> Approver:
    acting = org.people[pick.approver]
    profile = history.profile(pick.assignee, spend)
    behalf = pick.on_behalf_of
    return Approver(
        email=acting.email,
        name=acting.name,
        role=acting.role,
        team=acting.team,
        on_behalf_of=None if behalf is None else person(org, behalf),
        approvals_for_team=profile.approvals_for_team,
        approvals_for_category=profile.approvals_for_category,
        median_decision_hours=_hours(history.median_hours(pick.approver)),
        pending_requests=history.pending[pick.approver],
    )


def step(
    number: int,
    item: ChainStep,
    org: Org,
    history: History,
    spend: SpendRequest,
    decided: Decision | None = None,
) -> ApprovalStep:
    if decided is not None:
        return _decided_step(number, item, org, history, spend, decided)
    chosen = None if item.pick is None else approver(org, history, spend, item.pick)
    alternates = [approver(org, history, spend, pick) for pick in item.alternates]
    reason = (
        item.reason
        if chosen is None or not alternates
        else f"{item.reason} {_why_first(item, history, spend)}"
    )
    return ApprovalStep(
        step=number,
        status="assigned" if chosen else "no_eligible_approver",
        approver=chosen,
        alternates=alternates,
        rule=item.rule,
        requirement=item.requirement,
        reason=reason,
        also_satisfies=_covered(item),
        expected_hours=None if item.pick is None else _hours(history.expected_hours(item.pick.approver)),
    )


def _decided_step(
    number: int, item: ChainStep, org: Org, history: History, spend: SpendRequest, decided: Decision
) -> ApprovalStep:
    """A step of a stored request that someone already decided: who really signed, and when."""
    principal = decided.on_behalf_of.email if decided.on_behalf_of else decided.approver.email
    signer = approver(org, history, spend, Pick(decided.approver.email, principal))
    status = "rejected" if decided.decision == "rejected" else "approved"
    behalf = f" acting for {decided.on_behalf_of.name}" if decided.on_behalf_of else ""
    when = decided.decided_at.date().isoformat()
    return ApprovalStep(
        step=number,
        status=status,
        approver=signer,
        alternates=[],
        rule=item.rule,
        requirement=item.requirement,
        reason=f"{status} by {decided.approver.name}{behalf} on {when}. Required because: {item.reason}",
        also_satisfies=_covered(item),
        expected_hours=None,
        decision=decided,
    )


def _covered(item: ChainStep) -> list[CoveredRequirement]:
    return [CoveredRequirement(rule=c.rule, requirement=c.requirement, reason=c.reason) for c in item.covers]


def _why_first(item: ChainStep, history: History, spend: SpendRequest) -> str:
    """What put the approver before the runner-up, in the engine's order of criteria."""
    first, second = item.pick, item.alternates[0]
    if first is None:  # a step nobody may take has no alternates either
        return ""
    a, b = history.org.name(first.approver), history.org.name(second.approver)
    line = request_line(history.org, spend)
    if (first.on_behalf_of is None) != (second.on_behalf_of is None):
        decided = f"{a} is in the office, {b} would stand in for someone away"
    elif (first.assignee in line) != (second.assignee in line):
        decided = f"{a} is in the requester's management line (or manages the team charged), {b} is not"
    else:
        decided = history.tie_break(spend, first.assignee, second.assignee)
    return f"{a} comes before {b}: {decided}."


def output(
    info: RequestInfo,
    version: int,
    today: dt.date,
    chain: Chain,
    org: Org,
    history: History,
    spend: SpendRequest,
) -> SuggestApproverOutput:
    decided = {decision.step: decision for decision in info.decisions}
    return SuggestApproverOutput(
        request=info,
        policy_version=version,
        as_of=today,
        rules_applied=list(chain.rules),
        steps=[
            step(number, item, org, history, spend, decided.get(number))
            for number, item in enumerate(chain.steps, start=1)
        ],
        complete=chain.complete,
        expected_hours_to_full_approval=_hours(expected_total(history, chain)),
    )


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summary(answer: SuggestApproverOutput) -> str:
    amount = f"{grouped(answer.request.amount_company.amount)} {answer.request.amount_company.currency}"
    if not answer.steps:
        return f"No approval needed for {amount}: no rule of policy v{answer.policy_version} applies."
    parts = [_step_text(item) for item in answer.steps]
    head = (
        f"{len(answer.steps)} step(s) for {amount} under policy v{answer.policy_version}: {'; '.join(parts)}."
    )
    if not answer.complete:
        return f"{head} Incomplete: a step has no eligible approver (see its reason)."
    hours = answer.expected_hours_to_full_approval
    return head if hours is None else f"{head} Expected time to full approval: about {hours:g} hours."


def _step_text(item: ApprovalStep) -> str:
    if item.approver is None:
        return f"{item.step}. no eligible approver ({item.requirement})"
    behalf = f" acting for {item.approver.on_behalf_of.name}" if item.approver.on_behalf_of else ""
    if item.decision is not None:
        when = item.decision.decided_at.date().isoformat()
        return f"{item.step}. {item.status} by {item.approver.name}{behalf} on {when} ({item.requirement})"
    return f"{item.step}. {item.approver.name}{behalf} ({item.requirement})"

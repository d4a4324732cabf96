"""decide_approval: the person a request waits on approves or rejects its current step.

The request is locked first (PostgreSQL: a second decision of it waits, then sees the first), routed
again with today's absences (the chain suggest_approver shows), and the rules of `acting.turn` say
whether the caller may decide its first undecided step. A rejection ends the request; approving the
last step approves it. The answer names who decides next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from server.db.models import utcnow
from server.errors import InvalidArgument, NotFound
from server.kit.money import grouped
from server.kit.resolve import given
from tools.approvers import acting, acting_queries, service
from tools.approvers.acting import Member, Refused, Turn
from tools.approvers.acting_queries import Deciding, Locked
from tools.approvers.acting_schemas import DecideApprovalOutput, DecideOutcome, DecisionName, RequestStatus
from tools.approvers.logic import person
from tools.approvers.schemas import ApprovalStep, SuggestRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller
    from tools.approvers.service import Routed

STORED = {"approve": "approved", "reject": "rejected"}
STATUSES: dict[str, RequestStatus] = {"pending": "pending", "approved": "approved", "rejected": "rejected"}


@dataclass(frozen=True)
class Verdict:
    """decide_approval's arguments as the agent gave them."""

    request_id: str
    decision: DecisionName
    comment: str | None
    step: int | None
    dry_run: bool
    confirmed: bool  # the user confirmed the write (or the client could not be asked)


async def decide(
    session: AsyncSession, caller: Caller, today: dt.date, verdict: Verdict
) -> DecideApprovalOutput:
    ref, comment = _given(verdict)
    found = (
        None if caller.user is None else await acting_queries.member(session, caller.company_id, caller.user)
    )
    decider = acting.actor(caller.user, found, caller.company_name, "decide approvals")
    locked = await acting_queries.lock(session, caller.company_id, ref)
    routed = await service.route(session, caller, today, SuggestRequest(request_id=ref))  # unknown: NotFound
    if locked is None:  # routed, so it exists: only a request deleted in between gets here
        raise NotFound(f"no approval request with id {ref!r}")
    decided = [  # read by route, after the lock
        acting.Recorded(
            d.step, d.approver.email, absent.email if (absent := d.on_behalf_of) else None, d.decision
        )
        for d in routed.subject.info.decisions
    ]
    turn = acting.turn(
        routed.snap.org,
        routed.chain,
        ref=locked.ref,
        status=locked.status,
        requester=routed.subject.spend.requester,
        decided=decided,
        decider=decider.email,
        step=verdict.step,
    )
    stored = STORED[verdict.decision]
    status = STATUSES[acting.status_after(stored, turn.number, routed.chain)]
    outcome = _outcome(verdict)
    if outcome == "decided":
        behalf = await _member(session, caller.company_id, turn.on_behalf_of)
        deciding = Deciding(locked, turn.number, decider, behalf, stored, comment, status)
        await _record(session, caller.company_id, deciding)
    return _answer(routed, today, locked, turn, decider, verdict, comment, status, outcome)


def _given(verdict: Verdict) -> tuple[str, str | None]:
    ref, comment = given(verdict.request_id), given(verdict.comment)
    if ref is None:
        raise InvalidArgument("request_id is empty: pass an approval request id such as 'APR-00042'")
    if verdict.decision == "reject" and comment is None:
        raise InvalidArgument(
            "a rejection needs a `comment`: say why, in the decider's words, for the requester"
        )
    return ref, comment


def _outcome(verdict: Verdict) -> DecideOutcome:
    if verdict.dry_run:
        return "would_decide"
    return "decided" if verdict.confirmed else "declined"


async def _member(session: AsyncSession, company_id: int, email: str | None) -> Member | None:
    return None if email is None else await acting_queries.member(session, company_id, email)


async def _record(session: AsyncSession, company_id: int, deciding: Deciding) -> None:
    try:
        await acting_queries.decide(session, company_id, deciding, utcnow())
    except IntegrityError:  # another decision of this step committed first (SQLite: no row lock)
        raise Refused(
            f"step {deciding.step} of {deciding.request.ref} was decided by someone else at the same "
            "moment: nothing was recorded; look at the request again (suggest_approver)"
        ) from None


def _answer(
    routed: Routed,
    today: dt.date,
    locked: Locked,
    turn: Turn,
    decider: Member,
    verdict: Verdict,
    comment: str | None,
    status: RequestStatus,
    outcome: DecideOutcome,
) -> DecideApprovalOutput:
    org = routed.snap.org
    steps = routed.output(today).steps
    following: ApprovalStep | None
    if outcome == "declined":  # nothing recorded: the same step still waits
        status, following = STATUSES[locked.status], steps[turn.number - 1]
    else:
        following = steps[turn.number] if status == "pending" and turn.number < len(steps) else None
    answer = DecideApprovalOutput(
        request_id=locked.ref,
        outcome=outcome,
        recorded=outcome == "decided",
        dry_run=verdict.dry_run,
        step=turn.number,
        decision=verdict.decision,
        decided_by=person(org, decider.email),
        on_behalf_of=None if turn.on_behalf_of is None else person(org, turn.on_behalf_of),
        comment=comment,
        status=status,
        next_step=following,
        message="",
    )
    return answer.model_copy(update={"message": _message(routed, answer)})


def _message(routed: Routed, answer: DecideApprovalOutput) -> str:
    info = routed.subject.info
    amount = f"{grouped(info.amount.amount)} {info.amount.currency}"
    what = f"{answer.request_id} ({amount} for {info.requester.name})"
    done = "approved" if answer.decision == "approve" else "rejected"
    behalf = "" if answer.on_behalf_of is None else f" for {answer.on_behalf_of.name}"
    act = f"{answer.decided_by.name}{behalf} {done} step {answer.step} of {what}"
    if answer.outcome == "declined":
        return f"Nothing was recorded: the user did not confirm. {what} still waits on step {answer.step}."
    then = _then(answer)
    if answer.outcome == "would_decide":
        return f"Dry run: {act} would be recorded; {then}. Nothing was written."
    return f"{act}; {then}."


def _then(answer: DecideApprovalOutput) -> str:
    if answer.next_step is None or answer.status != "pending":
        return (
            f"the request is {answer.status}"
            if answer.outcome == "decided"
            else f"it would be {answer.status}"
        )
    nxt = answer.next_step.approver
    who = "nobody (no eligible approver)" if nxt is None else nxt.name
    return f"step {answer.next_step.step} waits on {who}"

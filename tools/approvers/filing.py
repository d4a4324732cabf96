"""submit_spend_request: file an approval request with the chain suggest_approver computes.

The requester is the person behind the call (they file in their own name); a service (a token without a
user) names the requester and files on their behalf, which the request records. A request whose chain
has a step nobody can take is refused (nobody could ever approve it); one that needs no approval is not
filed (there is nothing to wait for). An idempotency key files once: the same key with the same request
answers the request filed before, with a different request it is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from server.db.models import utcnow
from server.errors import InvalidArgument
from server.kit.money import grouped, to_minor
from server.kit.resolve import given, resolve_employee
from tools.approvers import acting, acting_queries, service
from tools.approvers.acting import Refused
from tools.approvers.acting_queries import Filing
from tools.approvers.acting_schemas import RequestStatus, SubmitOutcome, SubmitSpendRequestOutput
from tools.approvers.schemas import PaymentTypeName, SuggestApproverOutput, SuggestRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller
    from tools.approvers.service import Routed

STATUSES: dict[str, RequestStatus] = {"pending": "pending", "approved": "approved", "rejected": "rejected"}
ATTEMPTS = 3  # ids taken by someone filing at the same moment: take the next one


@dataclass(frozen=True)
class Submission:
    """submit_spend_request's arguments as the agent gave them."""

    requester: str | None
    amount: str
    currency: str | None
    category: str | None
    team: str | None
    payment_type: PaymentTypeName | None
    description: str | None
    idempotency_key: str | None
    dry_run: bool
    confirmed: bool  # the user confirmed the write (or the client could not be asked)


@dataclass(frozen=True)
class Filer:
    by: str  # the person's e-mail, or the token's subject
    on_behalf: bool
    requester: str  # as given, or the person's e-mail


async def submit(
    session: AsyncSession, caller: Caller, today: dt.date, submission: Submission
) -> SubmitSpendRequestOutput:
    filer = await _filer(session, caller, given(submission.requester))
    routed = await service.route(session, caller, today, _suggest_request(submission, filer))
    filing = _filing(routed, submission, filer)
    if filing.idempotency_key is not None:
        earlier = await acting_queries.by_key(session, caller.company_id, filing.idempotency_key)
        if earlier is not None:
            return _answer(routed, today, filing, "already_filed", earlier.ref, _same(earlier, filing))
    if not routed.chain.steps:
        return _answer(routed, today, filing, "not_required")
    _refuse_incomplete(routed)
    if submission.dry_run:
        return _answer(routed, today, filing, "would_file")
    if not submission.confirmed:
        return _answer(routed, today, filing, "declined")
    ref, outcome, status = await _file(session, caller.company_id, filing)
    return _answer(routed, today, filing, outcome, ref, status)


async def _filer(session: AsyncSession, caller: Caller, requester: str | None) -> Filer:
    if caller.user is None:
        if requester is None:
            raise InvalidArgument(
                "this token names no user, so pass `requester` (e-mail or name): the request is filed "
                f"on their behalf by {caller.subject}"
            )
        return Filer(caller.subject, on_behalf=True, requester=requester)
    found = await acting_queries.member(session, caller.company_id, caller.user)
    person = acting.actor(caller.user, found, caller.company_name, "file spend requests")
    if requester is not None:
        named = await resolve_employee(session, caller.company_id, requester)
        if named.email.lower() != person.email.lower():
            raise Refused(
                f"{person.name} files spend requests in their own name, not for {named.name}: "
                "leave out `requester`, or let them file it themselves"
            )
    return Filer(person.email, on_behalf=False, requester=person.email)


def _suggest_request(submission: Submission, filer: Filer) -> SuggestRequest:
    return SuggestRequest(
        requester=filer.requester,
        amount=submission.amount,
        currency=submission.currency,
        category=submission.category,
        team=submission.team,
        payment_type=submission.payment_type,
        description=submission.description,
    )


def _filing(routed: Routed, submission: Submission, filer: Filer) -> Filing:
    spend, info = routed.subject.spend, routed.subject.info
    return Filing(
        requester=spend.requester,
        team=spend.team,
        category=spend.category,
        amount_minor=to_minor(info.amount.amount, info.amount.currency),
        currency=info.amount.currency,
        amount_company_minor=spend.amount_minor,
        payment_type=spend.payment_type,
        description=info.description,
        filed_by=filer.by,
        filed_on_behalf=filer.on_behalf,
        idempotency_key=given(submission.idempotency_key),
    )


def _same(earlier: acting_queries.Filed, filing: Filing) -> RequestStatus:
    """The request filed earlier with this key, when it is this one (the company-currency amount may
    have moved with the exchange rates since); else refused."""
    again = dataclasses.replace(earlier.filing, amount_company_minor=filing.amount_company_minor)
    if again != filing:
        raise Refused(
            f"the idempotency key {filing.idempotency_key!r} already filed {earlier.ref}, a different "
            "request (or filed by someone else): use a new key for a new request"
        )
    return STATUSES[earlier.status]


def _refuse_incomplete(routed: Routed) -> None:
    for number, step in enumerate(routed.chain.steps, start=1):
        if step.pick is None:
            raise Refused(
                f"cannot file: step {number} ({step.requirement}, rule {step.rule!r}) has no eligible "
                f"approver, so nobody could approve it: {step.reason}"
            )


async def _file(
    session: AsyncSession, company_id: int, filing: Filing
) -> tuple[str, SubmitOutcome, RequestStatus]:
    """Insert under the next free id; someone filing at the same moment may take an id (or, with the
    same idempotency key, file it): then look again."""
    for _ in range(ATTEMPTS):
        key = filing.idempotency_key
        earlier = None if key is None else await acting_queries.by_key(session, company_id, key)
        if earlier is not None:
            return earlier.ref, "already_filed", _same(earlier, filing)
        ref = await acting_queries.next_ref(session, company_id)
        try:
            async with session.begin_nested():
                await acting_queries.file(session, company_id, ref, filing, utcnow())
        except IntegrityError:
            continue
        return ref, "filed", "pending"
    raise Refused("others were filing requests at the same moment: call again")


def _answer(
    routed: Routed,
    today: dt.date,
    filing: Filing,
    outcome: SubmitOutcome,
    ref: str | None = None,
    status: RequestStatus | None = None,
) -> SubmitSpendRequestOutput:
    route = routed.output(today)
    route = route.model_copy(
        update={"request": route.request.model_copy(update={"id": ref, "status": status})}
    )
    waiting = route.steps[0] if route.steps and outcome in ("filed", "would_file", "declined") else None
    return SubmitSpendRequestOutput(
        request_id=ref,
        outcome=outcome,
        filed=outcome == "filed",
        dry_run=outcome == "would_file",
        status=status,
        filed_by=filing.filed_by,
        filed_on_behalf=filing.filed_on_behalf,
        waiting_on=waiting,
        route=route,
        message=_message(route, outcome, ref, status),
    )


def _message(
    route: SuggestApproverOutput, outcome: SubmitOutcome, ref: str | None, status: str | None
) -> str:
    request = route.request
    what = f"{grouped(request.amount.amount)} {request.amount.currency} for {request.requester.name}"
    first = route.steps[0].approver if route.steps else None
    waits = "" if first is None else f"; step 1 waits on {first.name}"
    steps = f"{len(route.steps)} approval step(s)"
    if outcome == "not_required":
        return f"No approval is needed for {what}: no rule of the policy applies. Nothing was filed."
    if outcome == "would_file":
        return f"Dry run: {what} would be filed with {steps}{waits}. Nothing was written."
    if outcome == "declined":
        return f"Nothing was filed: the user did not confirm ({what}, {steps})."
    if outcome == "already_filed":
        return (
            f"{ref} was filed before with this idempotency key ({what}); it is {status}. Nothing new filed."
        )
    return f"Filed {ref}: {what}, {steps}{waits}."

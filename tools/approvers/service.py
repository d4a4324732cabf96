"""The suggest_approver use case: resolve the request, load the org and the policy, rank by history."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import InvalidArgument, NotFound
from server.kit.approval_policy import Policy
from server.kit.approvals import decisions_for
from server.kit.fx import to_company_currency
from server.kit.money import MoneyError, money, normalize_currency, to_minor
from server.kit.resolve import given, resolve_category, resolve_employee, resolve_team
from tools.approvers import engine, logic, queries
from tools.approvers.org import SpendRequest
from tools.approvers.ranking import Decision, History, waiting_on
from tools.approvers.schemas import RequestInfo, SuggestApproverOutput, SuggestRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller
    from tools.approvers.chain import Chain

HISTORY_DAYS = 365  # "usually approves" looks back a year
OPEN_REQUESTS = 200  # open requests examined to know who is busy
HISTORY_LIMIT = 20_000  # the most recent decisions of the year, enough for any "usually"
DETAILS = ("requester", "amount", "currency", "category", "team", "payment_type", "description")


@dataclass(frozen=True)
class Subject:
    """The request to route: what the engine needs and what the answer echoes."""

    spend: SpendRequest
    info: RequestInfo
    request_id: int | None = None


async def suggest(
    session: AsyncSession, caller: Caller, today: dt.date, request: SuggestRequest
) -> SuggestApproverOutput:
    return (await route(session, caller, today, request)).output(today)


async def _policy(session: AsyncSession, company_id: int) -> tuple[int, Policy]:
    found = await queries.current_policy(session, company_id)
    if found is None:
        raise NotFound("no approval policy is loaded for this company; import one (approval_policy.json)")
    version, document = found
    return version, Policy.model_validate(document)


async def _subject(
    session: AsyncSession, caller: Caller, snap: queries.Snapshot, today: dt.date, request: SuggestRequest
) -> Subject:
    details = [name for name in DETAILS if given(getattr(request, name))]
    ref = given(request.request_id)
    if ref is not None and details:
        raise InvalidArgument(
            "pass either request_id or the request's details, not both "
            f"(got request_id and {', '.join(details)})"
        )
    if ref is not None:
        return await _stored_subject(session, caller, snap, ref)
    if not given(request.requester) or not given(request.amount):
        raise InvalidArgument(
            "pass request_id (an existing approval request, e.g. APR-00042), or at least requester and "
            "amount (with currency, category, team and payment_type when known)"
        )
    return await _described_subject(session, caller, snap, today, request)


async def _stored_subject(session: AsyncSession, caller: Caller, snap: queries.Snapshot, ref: str) -> Subject:
    stored = await queries.request_by_ref(session, caller.company_id, ref)
    if stored is None:
        similar = await queries.refs_like(session, caller.company_id, ref, limit=3)
        hint = f"did you mean {' or '.join(map(repr, similar))}?" if similar else "ids look like APR-00042"
        raise NotFound(f"no approval request with id {ref!r}; {hint}")
    rows = await decisions_for(session, caller.company_id, [stored.id])
    spend = stored.spend
    info = RequestInfo(
        id=stored.ref,
        requester=logic.person(snap.org, spend.requester),
        team=spend.team,
        category=spend.category,
        amount=money(stored.amount_minor, stored.currency),
        amount_company=money(spend.amount_minor, caller.currency),
        exchange_rate=None,
        payment_type=logic.payment_type(spend.payment_type),
        description=stored.description,
        status=stored.status,
        decisions=[logic.decision(row.decision, row.approver, row.on_behalf_of) for row in rows],
    )
    return Subject(spend, info, stored.id)


async def _described_subject(
    session: AsyncSession, caller: Caller, snap: queries.Snapshot, today: dt.date, request: SuggestRequest
) -> Subject:
    company = caller.company_id
    requester = await resolve_employee(session, company, request.requester or "")
    team = await resolve_team(session, company, text) if (text := given(request.team)) else None
    category = await resolve_category(session, company, text) if (text := given(request.category)) else None
    currency, amount_minor = _amount(request.amount or "", given(request.currency) or caller.currency)
    converted = await to_company_currency(session, company, caller.currency, amount_minor, currency, today)
    team_name = team.name if team else snap.org.people[requester.email].team
    payment_type = request.payment_type or "card"
    spend = SpendRequest(
        requester.email, team_name, converted.amount_minor, category.code if category else None, payment_type
    )
    info = RequestInfo(
        id=None,
        requester=logic.person(snap.org, requester.email),
        team=team_name,
        category=spend.category,
        amount=money(amount_minor, currency),
        amount_company=money(converted.amount_minor, caller.currency),
        exchange_rate=None if converted.rate is None else str(converted.rate),
        payment_type=payment_type,
        description=given(request.description),
        status=None,
        decisions=[],
    )
    return Subject(spend, info)


def _amount(text: str, currency_text: str) -> tuple[str, int]:
    try:
        currency = normalize_currency(currency_text)
        minor = to_minor(text, currency)
    except MoneyError as exc:
        raise InvalidArgument(f"amount: {exc}") from None
    if minor <= 0:
        raise InvalidArgument(f"amount must be positive, got {text.strip()}")
    return currency, minor


async def _history(
    session: AsyncSession, snap: queries.Snapshot, policy: Policy, subject: Subject, today: dt.date
) -> History:
    """The last year's decisions (who decided what, how fast) and who open requests wait on now."""
    history = History(snap.org)
    since = dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS), dt.time(), dt.UTC)
    for past in await queries.past_decisions(session, snap.company_id, since=since, limit=HISTORY_LIMIT):
        decision = _decision(past)
        history.add(decision)
        history.add_typical(decision.hours)
    history.pending = await _waiting(session, snap, policy, subject, today)
    return history


def _decision(past: queries.PastDecision) -> Decision:
    hours = (past.decided_at - past.since).total_seconds() / 3600
    return Decision(past.team, past.category, past.principal, past.approver, max(hours, 0.0))


async def _waiting(
    session: AsyncSession, snap: queries.Snapshot, policy: Policy, subject: Subject, today: dt.date
) -> Counter[str]:
    """How many open requests wait on each person: the next undecided step of each one's chain."""
    waiting: Counter[str] = Counter()
    for stored, decided in await queries.requests(
        session, snap.company_id, status="pending", limit=OPEN_REQUESTS
    ):
        if stored.id == subject.request_id:
            continue
        chain = engine.evaluate(policy, snap.org, stored.spend, today)
        if (approver := waiting_on(chain, decided)) is not None:
            waiting[approver] += 1
    return waiting


@dataclass(frozen=True)
class Routed:
    """A request routed as suggest_approver routes it, with what was read to route it: filing and
    deciding act on the same chain the agent was shown."""

    version: int
    policy: Policy
    snap: queries.Snapshot
    subject: Subject
    history: History
    chain: Chain

    def output(self, today: dt.date) -> SuggestApproverOutput:
        spend = self.subject.spend
        return logic.output(
            self.subject.info, self.version, today, self.chain, self.snap.org, self.history, spend
        )


async def route(session: AsyncSession, caller: Caller, today: dt.date, request: SuggestRequest) -> Routed:
    """What `suggest` computes, kept whole for the approvals that act (tools/approvers/acting_*.py)."""
    version, policy = await _policy(session, caller.company_id)
    snap = await queries.snapshot(session, caller.company_id, caller.currency)
    subject = await _subject(session, caller, snap, today, request)
    history = await _history(session, snap, policy, subject, today)
    chain = engine.evaluate(policy, snap.org, subject.spend, today, history.preference(subject.spend))
    return Routed(version, policy, snap, subject, history, chain)

"""The approval history: requests for larger one-off spend and the decisions along their chains.

Charges of 1,000 EUR or more (subscription renewals by contract excepted) went through an approval
request; a few requests were rejected before anything was bought. Travel, hardware, conferences and
invoices are asked for before the purchase, the rest right after it. Approvers answer within hours
in office hours; an approver who is out of office has their delegate answer for them (see
`server.demo.approvals` for who that is). Nothing is decided on or after `today`: requests still in
flight are pending.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from server.demo.approvals import Policy, Request, Step
from server.demo.categories import BY_CODE
from server.demo.model import Org, Person, Spend
from server.demo.timeline import SEASON, Month, Window, poisson, rng_for

THRESHOLD_MINOR = 100_000  # 1,000 EUR
_FIRST_ANSWER_HOURS = 5.0
_LATER_ANSWER_HOURS = 30.0
_ASKED_BEFORE = frozenset(
    {"TRAVEL-AIR", "TRAVEL-HOTEL", "CONFERENCES", "HARDWARE", "MARKETING-EVENTS", "TRAINING"}
)
# (category, typical EUR, what was asked for) for requests that were turned down, never spent.
_UNSPENT = (
    ("HARDWARE", 2400, "Workstation with GPU for simulation"),
    ("TRAINING", 1900, "Leadership training programme"),
    ("CONFERENCES", 1600, "Trip to ICRA"),
    ("TRAVEL-AIR", 1500, "Customer visit in the US"),
    ("SOFTWARE", 3200, "Annual licence for a second CAD tool"),
    ("MARKETING-EVENTS", 12000, "Sponsoring of a robotics meetup series"),
    ("PROTOTYPING", 4200, "Components for a second test rig"),
    ("TEAM-EVENTS", 2500, "Team offsite in the Alps"),
)


@dataclass(frozen=True, slots=True)
class Decision:
    step: int
    approver: Person
    on_behalf_of: Person | None
    decision: str
    decided_at: dt.datetime


@dataclass(slots=True)
class ApprovalRecord:
    requester: Person
    team: str
    category: str
    amount_minor: int
    currency: str
    amount_company_minor: int
    payment_type: str
    description: str
    submitted_at: dt.datetime
    status: str = "pending"
    expense_ref: str = ""
    decisions: list[Decision] = field(default_factory=list)
    ref: str = ""


class ApprovalDesk:
    def __init__(self, seed: int, org: Org, policy: Policy, window: Window) -> None:
        self._rng = rng_for(seed, "approvals")
        self._org = org
        self._policy = policy
        self._first_day = window.start  # the history starts with the window, like the expenses
        # Midnight UTC at the start of `today`: whatever time the demo is generated, nothing is in the future.
        self._cutoff = dt.datetime.combine(window.today, dt.time(), dt.UTC)

    @staticmethod
    def needs_approval(spend: Spend) -> bool:
        return not spend.contracted and spend.amount_company_minor >= THRESHOLD_MINOR

    def review(self, spend: Spend) -> ApprovalRecord | None:
        """The request behind a charge, or None if it had not been submitted (or answered) by today."""
        rng = self._rng
        before = spend.category in _ASKED_BEFORE or spend.payment_type == "invoice"
        offset = -rng.randint(1, 12) if before else rng.randint(0, 3)
        submitted = self._office_time(max(self._first_day, spend.date + dt.timedelta(days=offset)))
        description = spend.memo or f"{spend.merchant.name}: {BY_CODE[spend.category].name}"
        record = ApprovalRecord(
            spend.person,
            spend.person.team,
            spend.category,
            spend.amount_minor,
            spend.currency,
            spend.amount_company_minor,
            spend.payment_type,
            description,
            submitted,
            expense_ref=spend.ref,
        )
        return record if self._decide(record, reject_at=None) else None

    def unspent(self, month: Month) -> list[ApprovalRecord]:
        """Pre-approval requests turned down (or still open) that never became an expense."""
        rng = self._rng
        staff = [p for p in self._org.people if p.employed_on(month.first) and p.manager_email]
        records = []
        for _ in range(poisson(rng, len(staff) * 0.004 * SEASON[month.first.month - 1])):
            requester = rng.choice(staff)
            category, typical, what = rng.choice(_UNSPENT)
            minor = round(typical * rng.lognormvariate(0, 0.3)) * 100
            day = month.first + dt.timedelta(days=rng.randrange(month.days))
            record = ApprovalRecord(
                requester, requester.team, category, minor, "EUR", minor, "card", what, self._office_time(day)
            )
            if self._decide(record, reject_at=rng.randint(1, 3)):
                records.append(record)
        return records

    def _decide(self, record: ApprovalRecord, reject_at: int | None) -> bool:
        """Walk the chain; False when nobody had decided anything by today (no history to show)."""
        if record.submitted_at >= self._cutoff:
            return False
        request = Request(
            record.requester, record.team, record.category, record.amount_company_minor, record.payment_type
        )
        day = record.submitted_at.date()
        chain = self._policy.chain(request, day, self._rng)
        length = sum(not step.covered for step in chain)
        moment, taken, delegated = record.submitted_at, list[Person](), list[Person]()
        for planned in chain:
            step = self._own_step(planned, request, day, taken, delegated)
            if step is None:  # an earlier approval of the same person covers it
                continue
            moment = self._answer_time(moment, first=not record.decisions)
            if moment >= self._cutoff:
                break
            acting = self._policy.acting(step.approver, request, taken, moment.date())
            taken.append(step.approver)
            if acting is None:  # it fell on someone already in the chain: their approval covers it
                continue
            approver, on_behalf_of = acting
            taken.append(approver)
            if on_behalf_of is not None:
                delegated += [approver, on_behalf_of]
            number = len(record.decisions) + 1
            verdict = self._verdict(number, length, record, reject_at)
            record.decisions.append(Decision(number, approver, on_behalf_of, verdict, moment))
            if verdict == "rejected":
                record.status = "rejected"
                break
        else:
            record.status = "approved" if record.decisions else "pending"
        return bool(record.decisions)

    def _own_step(
        self, step: Step, request: Request, day: dt.date, taken: list[Person], delegated: list[Person]
    ) -> Step | None:
        """The step as decided: None when an earlier approval covers it. A delegate's decision covers
        only the absent person's own step, so a step falling on either of them goes up instead."""
        if step.approver not in delegated:
            return None if step.covered else step
        above = self._policy.uncovered(step, request, day)
        return None if above is None or above.approver in taken else above

    def _verdict(self, number: int, length: int, record: ApprovalRecord, reject_at: int | None) -> str:
        if reject_at is not None:
            return "rejected" if number == min(reject_at, length) else "approved"
        chance = 0.025 + (0.03 if record.amount_company_minor > 500_000 else 0.0)
        return "rejected" if self._rng.random() < chance else "approved"

    def _office_time(self, day: dt.date) -> dt.datetime:
        minutes = self._rng.randint(7 * 60, 19 * 60)
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), dt.UTC)

    def _answer_time(self, after: dt.datetime, first: bool) -> dt.datetime:
        """Hours later on a working day (the line manager is quick; finance and executives take a day or
        two); overnight and weekend requests wait for the morning."""
        typical = _FIRST_ANSWER_HOURS if first else _LATER_ANSWER_HOURS
        hours = min(200.0, self._rng.lognormvariate(math.log(typical), 1.2))
        moment = after + dt.timedelta(minutes=max(5, round(hours * 60)))
        while moment.weekday() >= 5 or not 7 <= moment.hour < 20:
            early = moment.hour < 7 and moment.weekday() < 5
            moment = self._office_time(moment.date() + dt.timedelta(days=0 if early else 1))
        return moment

"""The approval chain a policy requires for a spend request, and who should act at each step.

Pure and deterministic: the same policy, org snapshot, request, day and preference give the same
chain. No I/O. The rules (docs/approval-policy.md has them with examples):

1. Every rule whose conditions hold adds its steps, in policy order. Amounts compare in company
   currency; `category_in` / `team_in` also match the sub-categories / sub-teams of those named.
2. A step names people (`team_manager`, `role:cfo`, ...). Each is checked: not the requester, not below
   the requester in their reporting line (control `no_approval_from_below`), active, approval limit at
   least the amount (when the company records limits). Whoever fails is replaced by the person above
   them (line manager, else the manager of the nearest team above), until someone qualifies or nobody
   is left: then the step has no eligible approver, and the chain says why.
3. Someone out of office today has their delegate act for them (delegated authority: the delegate's
   own limit does not matter). A delegate who is away too passes it on to their own delegate; a
   delegate who is the requester, below the requester, inactive or already in the chain, a loop, or no
   delegate at all sends the step up to the absent person's superior instead.
4. Nobody approves twice. A step that resolves to someone already in the chain is covered by their
   earlier approval (listed under that step); the same requirement from several rules is one step;
   a pooled step (finance team, a role several people have) takes someone not yet in the chain.
   A delegate's signature covers only the absent person's own step (control
   `delegate_covers_own_step_only`): a later step landing on the delegate or on the absent person is
   not covered by it and goes up, as in 2.
5. `manager_of:<step>` is the superior of whoever `<step>` was assigned to; when that person is at the
   top of the hierarchy their own approval already covers it.
6. Several eligible people (a pool): present before stand-ins, people in the requester's line first,
   then the caller's preference (history), then e-mail. The rest are the alternates.
7. `min_distinct_approvers` (the largest of the applying rules'): when the chain resolved by 1-6 has
   fewer different signers, it is resolved again with no covering while fewer have signed so far: a
   step landing on an earlier signer goes up from them (a pool takes another member first), `manager_of`
   at the top has no eligible approver. A complete chain still short gets a last step with no
   eligible approver (requirement `min_distinct_approvers`) that says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from server.kit.approval_policy import (
    Conditions,
    Controls,
    CostCenterOwner,
    EmployeeStep,
    FinanceTeam,
    ManagerOf,
    Policy,
    RoleStep,
    Step,
    TeamManager,
)
from server.kit.money import currency_exponent, format_amount
from tools.approvers import named, signers
from tools.approvers.chain import Chain, ChainStep, Covered, Pick, Preference
from tools.approvers.named import Named
from tools.approvers.org import Org, Person, SpendRequest


@dataclass(frozen=True, slots=True)
class _Outcome:
    picks: tuple[Pick, ...] = ()
    covered_by: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Blocked:
    reason: str
    covered_by: str | None = None


@dataclass
class _Draft:
    rule: str
    requirement: str
    outcome: _Outcome
    covers: list[Covered] = field(default_factory=list)


def evaluate(
    policy: Policy, org: Org, request: SpendRequest, today: dt.date, prefer: Preference | None = None
) -> Chain:
    """The ordered chain of approvals `policy` requires for `request` on `today`."""
    chain = _Resolver(org, request, today, prefer, policy.controls).run(policy)
    wanted = signers.wanted(rule for rule in policy.rules if applies(rule.when, org, request))
    if wanted is None or signers.count(chain) >= wanted.count:
        return chain
    strict = _Resolver(org, request, today, prefer, policy.controls, wanted).run(policy)
    return signers.short(strict, wanted)


def request_line(org: Org, request: SpendRequest) -> frozenset[str]:
    """The requester's management line and the managers of the team charged and the teams above it:
    in a pool, they come first."""
    managers = (org.teams[name].manager for name in org.team_line(request.team))
    return frozenset({*org.management_line(request.requester), *(m for m in managers if m)})


def applies(when: Conditions, org: Org, request: SpendRequest) -> bool:
    amount = Decimal(request.amount_minor).scaleb(-currency_exponent(org.currency))
    requester = org.people.get(request.requester)
    return all(
        (
            when.amount_over is None or amount > when.amount_over,
            when.amount_at_least is None or amount >= when.amount_at_least,
            when.category_in is None
            or not set(org.category_line(request.category)).isdisjoint(when.category_in),
            when.team_in is None or not set(org.team_line(request.team)).isdisjoint(when.team_in),
            when.requester_role_in is None
            or (requester is not None and requester.role in when.requester_role_in),
            when.payment_type_in is None or request.payment_type in when.payment_type_in,
        )
    )


class _Resolver:
    def __init__(
        self,
        org: Org,
        request: SpendRequest,
        today: dt.date,
        prefer: Preference | None,
        controls: Controls,
        distinct: signers.Signers | None = None,
    ) -> None:
        self.org, self.request, self.today, self.prefer = org, request, today, prefer
        self.controls, self.distinct = controls, distinct
        self.drafts: list[_Draft] = []
        self.holder: dict[str, int] = {}  # requirement text -> index of the draft that holds it
        self.assignee: dict[str, str | None] = {}  # requirement text -> whom it was assigned to
        self.taken: dict[str, int] = {}  # person -> index of the draft they act or are assigned in
        self.signed: set[str] = set()  # who signs a step so far (a delegate, not whom they act for)
        self.in_line = request_line(org, request)

    def run(self, policy: Policy) -> Chain:
        rules = []
        for rule in policy.rules:
            if applies(rule.when, self.org, self.request):
                rules.append(rule.name)
                for step in rule.steps:
                    self.add(rule.name, step)
        steps = (
            ChainStep(
                d.rule,
                d.requirement,
                _first(d.outcome.picks),
                d.outcome.picks[1:],
                d.outcome.reason,
                tuple(d.covers),
            )
            for d in self.drafts
        )
        return Chain(tuple(rules), tuple(steps))

    def add(self, rule: str, step: Step) -> None:
        text = str(step)
        if text in self.holder:
            index = self.holder[text]
            self.drafts[index].covers.append(
                Covered(rule, text, f"the same requirement as step {index + 1}.")
            )
            return
        outcome = self.resolve(step)
        if outcome.covered_by is not None:
            index = self.taken[outcome.covered_by]
            self.drafts[index].covers.append(Covered(rule, text, outcome.reason))
            self.holder[text], self.assignee[text] = index, outcome.covered_by
            return
        index = len(self.drafts)
        self.drafts.append(_Draft(rule, text, outcome))
        pick = _first(outcome.picks)
        self.holder[text], self.assignee[text] = index, pick.assignee if pick else None
        if pick is not None:
            self.taken.setdefault(pick.assignee, index)
            self.taken.setdefault(pick.approver, index)
            self.signed.add(pick.approver)

    def resolve(self, step: Step) -> _Outcome:
        """What `step` resolves to given the chain so far (reads the chain, never changes it)."""
        match step:
            case ManagerOf(of=inner):
                return self.manager_of(inner)
            case TeamManager():
                nominal = named.team_manager(self.org, self.request.team)
            case CostCenterOwner():
                nominal = named.cost_center_owners(self.org, self.request.team)
            case FinanceTeam():
                nominal = named.finance(self.org)
            case RoleStep(role=role):
                nominal = named.role(self.org, role)
            case EmployeeStep(email=email):
                nominal = named.employee(self.org, email)
        return self.settle(nominal)

    def manager_of(self, inner: Step) -> _Outcome:
        text = str(inner)
        if text in self.assignee:
            base = self.assignee[text]
        else:  # not a step of this chain: only to know whom it would name
            found = self.resolve(inner)
            base = found.covered_by or (found.picks[0].assignee if found.picks else None)
        if base is None:
            return _Outcome(reason=f"nobody is eligible for {text}, so there is no manager of theirs to ask.")
        boss = self.org.superior(base)
        if boss is None and base in self.taken and (refused := self.no_cover(base)) is not None:
            return _Outcome(reason=f"{self.who(base)} ({text}) has nobody above them, and {refused}.")
        if boss is None and base in self.taken:
            reason = (
                f"{self.who(base)} ({text}) has nobody above them, so their approval is the highest there is."
            )
            return _Outcome(covered_by=base, reason=reason)
        if boss is None:
            return _Outcome(reason=f"{self.who(base)} ({text}) has nobody above them.")
        return self.settle(Named((boss,), f"{self.who(boss)} is above {self.who(base)} ({text})"))

    # ---- checking the people named -------------------------------------------------------------

    def settle(self, nominal: Named) -> _Outcome:
        if not nominal.people:
            return _Outcome(reason=_sentence(nominal.basis, ()))
        results = [self.authorize(email) for email in nominal.people]
        picks = [r for r in results if isinstance(r, Pick)]
        usable = [p for p in picks if not p.escalated] or picks  # go up only when nobody named can act
        if usable:
            ranked = _unique(sorted(usable, key=self.rank))
            return _Outcome(
                tuple(ranked), reason=_sentence(nominal.basis, (*ranked[0].notes, *self.away(ranked)))
            )
        blocked = [r for r in results if isinstance(r, _Blocked)]
        covered = next((b for b in blocked if b.covered_by is not None), None)
        if covered is not None:
            return _Outcome(covered_by=covered.covered_by, reason=_sentence(nominal.basis, (covered.reason,)))
        reasons = [b.reason for b in blocked][:3]
        return _Outcome(reason=_sentence(nominal.basis, (f"but {'; '.join(reasons)}",)))

    def authorize(self, start: str) -> Pick | _Blocked:
        """Walk up from `start` to the first person who may approve, then find who acts for them."""
        notes: list[str] = []
        current, visited = start, set()
        while current not in visited:
            visited.add(current)
            problem = self.unfit(self.org.people[current])
            if problem is None and current in self.taken:
                problem = self.no_cover(current)
                if problem is None:
                    return _Blocked(
                        f"{self.who(current)} already approves at step {self.taken[current] + 1}", current
                    )
            if problem is None:
                acting = self.stand_in(self.org.people[current])
                if isinstance(acting, Pick):
                    return Pick(acting.approver, current, (*notes, *acting.notes), escalated=current != start)
                problem = acting.reason
            boss = self.org.superior(current)
            if boss is None:
                return _Blocked("; ".join([*notes, f"{problem}, and nobody is above them"]))
            notes.append(f"{problem}, so it goes up to {self.who(boss)}")
            current = boss
        return _Blocked("; ".join([*notes, f"the management chain loops back to {self.who(current)}"]))

    def unfit(self, person: Person) -> str | None:
        """Why `person` may not approve this request themselves (None: they may)."""
        who = self.who(person.email)
        if person.email == self.request.requester:
            return f"{who} is the requester"
        if below := self.below_requester(person.email):
            return below
        if not person.active:
            return f"{who} is no longer active"
        if not self.org.limits_in_use:
            return None
        if person.limit_minor is None:
            return f"{who} has no approval authority"
        if person.limit_minor < self.request.amount_minor:
            limit, amount = self.money(person.limit_minor), self.money(self.request.amount_minor)
            return f"{who}'s approval limit ({limit}) is below {amount}"
        return None

    def below_requester(self, email: str) -> str | None:
        """Why `email` may not approve as a report of the requester (control `no_approval_from_below`)."""
        requester = self.request.requester
        if self.controls.no_approval_from_below and self.org.reports_to(email, requester):
            return f"{self.who(email)} reports to the requester {self.who(requester)}"
        return None

    def no_cover(self, email: str) -> str | None:
        """Why the step `email` takes in the chain cannot also cover this requirement (None: it can)."""
        index = self.taken[email]
        if self.distinct is not None and len(self.signed) < self.distinct.count:
            wanted = self.distinct
            return (
                f"{self.who(email)} already signs at step {index + 1}, and rule {wanted.rule!r} asks for "
                f"at least {wanted.count} different signers"
            )
        pick = self.drafts[index].outcome.picks[0]
        if not self.controls.delegate_covers_own_step_only or pick.on_behalf_of is None:
            return None
        absent, delegate = self.who(pick.assignee), self.who(pick.approver)
        if email == pick.approver:
            return f"{delegate} already signs at step {index + 1} for {absent}, which covers only that step"
        return (
            f"{absent}'s step {index + 1} is signed by their delegate {delegate}, which covers only that step"
        )

    def away(self, ranked: list[Pick]) -> tuple[str, ...]:
        """The pool members out of office, when someone in the office comes first."""
        if ranked[0].on_behalf_of is not None:
            return ()
        return tuple(
            f"{self.absence(self.org.people[p.assignee])}, so someone in the office comes first"
            for p in ranked[1:]
            if p.on_behalf_of is not None
        )

    def absence(self, person: Person) -> str:
        return f"{self.who(person.email)} is {self.away_dates(person)}"

    @staticmethod
    def away_dates(person: Person) -> str:
        return f"out of office {person.away_from}–{person.away_until}"

    def stand_in(self, person: Person) -> Pick | _Blocked:
        """Who acts for `person` today: themselves, or their delegate (following delegates who are away)."""
        if not person.away_on(self.today):
            return Pick(person.email, person.email)
        away = self.absence(person)
        current, seen, passed = person, {person.email}, []
        while True:
            email = current.delegate
            if email is None:
                return _Blocked(
                    f"{away} and {'has no delegate' if current is person else 'so are the delegates'}"
                )
            if email in seen:
                return _Blocked(f"{away} and the delegation loops back to {self.who(email)}")
            delegate = self.org.people.get(email)
            if delegate is None:
                return _Blocked(f"{away} and their delegate {email} is not an employee")
            seen.add(email)
            if not delegate.away_on(self.today):
                break
            passed.append(self.who(email))
            current = delegate
        if problem := self.unfit_delegate(delegate):
            return _Blocked(f"{away} and their delegate {problem}")
        via = f", passed on by {', '.join(passed)}, away too" if passed else ""
        acts = f"{self.who(email)} acts for {self.who(person.email)} ({self.away_dates(person)}){via}"
        return Pick(email, person.email, (acts,))

    def unfit_delegate(self, delegate: Person) -> str | None:
        if delegate.email == self.request.requester:
            return f"{self.who(delegate.email)} is the requester"
        if below := self.below_requester(delegate.email):
            return below
        if not delegate.active:
            return f"{self.who(delegate.email)} is no longer active"
        if delegate.email in self.taken:
            return f"{self.who(delegate.email)} already approves at step {self.taken[delegate.email] + 1}"
        return None

    def rank(self, pick: Pick) -> tuple[bool, bool, tuple[float, ...], str]:
        preference = self.prefer(pick.assignee) if self.prefer else ()
        return (pick.on_behalf_of is not None, pick.assignee not in self.in_line, preference, pick.assignee)

    def who(self, email: str) -> str:
        return self.org.name(email)

    def money(self, minor: int) -> str:
        return f"{Decimal(format_amount(minor, self.org.currency)):,} {self.org.currency}"


def _first(picks: tuple[Pick, ...]) -> Pick | None:
    return picks[0] if picks else None


def _unique(picks: list[Pick]) -> list[Pick]:
    """One pick per person acting (two absent people may share a delegate)."""
    unique: dict[str, Pick] = {}
    for pick in picks:
        unique.setdefault(pick.approver, pick)
    return list(unique.values())


def _sentence(basis: str, notes: tuple[str, ...]) -> str:
    return "; ".join([basis, *notes]) + "."

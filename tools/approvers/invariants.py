"""What any approval chain must satisfy, checked from the outside: the policy-violation count of the
eval and the oracle of the property tests. It does not retrace how the engine resolved a step; it
only checks the result against the org, the request and the policy:

- nobody acts or is assigned who is the requester, inactive, or (when the company records limits)
  without authority: the assignee's limit covers the amount (a delegate acts with it);
- whoever acts is in the office; someone acting for another is reached from them through delegates
  who are all away, and the person they act for is away;
- nobody appears in two steps, and alternates obey the same rules;
- every step of every rule whose conditions hold is in the chain, as a step or covered by one.
"""

from __future__ import annotations

import datetime as dt

from server.kit.approval_policy import Policy
from tools.approvers.chain import Chain, Pick
from tools.approvers.engine import applies
from tools.approvers.org import Org, SpendRequest


def violations(policy: Policy, org: Org, request: SpendRequest, today: dt.date, chain: Chain) -> list[str]:
    problems = _coverage(policy, org, request, chain)
    earlier: set[str] = set()
    for number, step in enumerate(chain.steps, start=1):
        for pick in ((step.pick,) if step.pick else ()) + step.alternates:
            problems += [f"step {number}: {p}" for p in _pick(org, request, today, pick, earlier)]
        if step.pick is not None:
            earlier |= {step.pick.approver, step.pick.assignee}
    return problems


def _coverage(policy: Policy, org: Org, request: SpendRequest, chain: Chain) -> list[str]:
    wanted = {(r.name, str(s)) for r in policy.rules if applies(r.when, org, request) for s in r.steps}
    present = {(s.rule, s.requirement) for s in chain.steps}
    present |= {(c.rule, c.requirement) for s in chain.steps for c in s.covers}
    return [
        f"rule {rule!r} requires {step} but the chain neither has nor covers it"
        for rule, step in sorted(wanted - present)
    ] + [
        f"the chain has {step} for rule {rule!r}, which does not require it"
        for rule, step in sorted(present - wanted)
    ]


def _pick(org: Org, request: SpendRequest, today: dt.date, pick: Pick, earlier: set[str]) -> list[str]:
    problems = []
    for role, email in (("approver", pick.approver), ("assignee", pick.assignee)):
        person = org.people.get(email)
        if person is None:
            problems.append(f"{role} {email} is not an employee")
            continue
        if email == request.requester:
            problems.append(f"{role} {email} is the requester")
        if not person.active:
            problems.append(f"{role} {email} is inactive")
        if email in earlier:
            problems.append(f"{role} {email} already approves an earlier step")
    if problems:
        return problems
    assignee = org.people[pick.assignee]
    if org.limits_in_use and (assignee.limit_minor is None or assignee.limit_minor < request.amount_minor):
        problems.append(f"{pick.assignee} has no authority for {request.amount_minor} minor units")
    if org.people[pick.approver].away_on(today):
        problems.append(f"{pick.approver} acts but is out of office")
    if pick.approver != pick.assignee and not _delegated(org, pick, today):
        problems.append(f"{pick.approver} acts for {pick.assignee} without a delegation")
    return problems


def _delegated(org: Org, pick: Pick, today: dt.date) -> bool:
    """`pick.assignee` is away and their delegates, followed while away, lead to `pick.approver`."""
    current, seen = org.people[pick.assignee], set()
    while current.away_on(today) and current.delegate and current.email not in seen:
        seen.add(current.email)
        if current.delegate == pick.approver:
            return True
        if current.delegate not in org.people:
            return False
        current = org.people[current.delegate]
    return False

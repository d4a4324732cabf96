"""What any approval chain must satisfy, checked from the outside: the policy-violation count of the
eval and the oracle of the property tests. It does not retrace how the engine resolved a step; it
only checks the result against the org, the request and the policy:

- nobody acts or is assigned who is the requester, inactive, or (when the company records limits)
  without authority: the assignee's limit covers the amount (a delegate acts with it);
- whoever acts is in the office; someone acting for another is reached from them through delegates
  who are all away, and the person they act for is away;
- nobody appears in two steps, and alternates obey the same rules;
- every step of every rule whose conditions hold is in the chain, as a step or covered by one;
- the policy's controls: nobody below the requester in their reporting line acts or is assigned
  (`no_approval_from_below`); a step a delegate signs covers no other requirement
  (`delegate_covers_own_step_only`); a complete chain has at least as many different signers as an
  applying rule's `min_distinct_approvers`.
"""

from __future__ import annotations

import datetime as dt

from server.kit.approval_policy import Policy
from tools.approvers import signers
from tools.approvers.chain import Chain, Pick
from tools.approvers.engine import applies
from tools.approvers.org import Org, SpendRequest


def violations(policy: Policy, org: Org, request: SpendRequest, today: dt.date, chain: Chain) -> list[str]:
    problems = _coverage(policy, org, request, chain) + controls(policy, org, request, chain)
    earlier: set[str] = set()
    for number, step in enumerate(chain.steps, start=1):
        for pick in ((step.pick,) if step.pick else ()) + step.alternates:
            problems += [f"step {number}: {p}" for p in _pick(org, request, today, pick, earlier)]
        if step.pick is not None:
            earlier |= {step.pick.approver, step.pick.assignee}
    return problems


def controls(policy: Policy, org: Org, request: SpendRequest, chain: Chain) -> list[str]:
    """What the chain does against the policy's controls (each check only when its control is on)."""
    problems = signers_short(policy, org, request, chain)
    if policy.controls.no_approval_from_below:
        problems += from_below(org, request, chain)
    if policy.controls.delegate_covers_own_step_only:
        problems += delegate_covers_others(chain)
    return problems


def from_below(org: Org, request: SpendRequest, chain: Chain) -> list[str]:
    """Anyone acting or assigned (alternates too) who reports, directly or not, to the requester."""
    return [
        f"step {number}: {email} is below the requester {request.requester} in the reporting line"
        for number, step in enumerate(chain.steps, start=1)
        for pick in ((step.pick,) if step.pick else ()) + step.alternates
        for email in dict.fromkeys((pick.approver, pick.assignee))
        if org.reports_to(email, request.requester)
    ]


def delegate_covers_others(chain: Chain) -> list[str]:
    """A delegate's signature that the chain counts for another requirement than the absent person's."""
    return [
        f"step {number}: {step.pick.approver} signs for {step.pick.assignee} and also covers {c.requirement}"
        for number, step in enumerate(chain.steps, start=1)
        if step.pick is not None and step.pick.on_behalf_of is not None
        for c in step.covers
        if c.requirement != step.requirement
    ]


def signers_short(policy: Policy, org: Org, request: SpendRequest, chain: Chain) -> list[str]:
    """A complete chain with fewer different signers than an applying rule asks for."""
    if not chain.complete:
        return []  # the chain already says it cannot be met
    signed = signers.count(chain)
    return [
        f"rule {rule.name!r} asks for {rule.min_distinct_approvers} different signers, has {signed}"
        for rule in policy.rules
        if rule.min_distinct_approvers is not None
        and applies(rule.when, org, request)
        and signed < rule.min_distinct_approvers
    ]


def _coverage(policy: Policy, org: Org, request: SpendRequest, chain: Chain) -> list[str]:
    wanted = {(r.name, str(s)) for r in policy.rules if applies(r.when, org, request) for s in r.steps}
    # The step saying a chain is too short for its rules' min_distinct_approvers is no policy step.
    present = {(s.rule, s.requirement) for s in chain.steps if s.requirement != signers.REQUIREMENT}
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

"""Who may act on an approval request: the pure rules of submit_spend_request and decide_approval.

- The person behind a call (`Caller.user`: a token's user claim, OUTLAY_USER locally) must be an active
  employee of the caller's company to file in their own name or to decide. A caller without a user (a
  service token) may file on a requester's behalf, never decide.
- A request is decided one step at a time, in the chain the engine computes today (its absences and
  delegations, and whatever controls the policy applies): the first step without a decision. Only the
  person that step is assigned to, or the delegate acting for them today, may decide it; never the
  requester, nobody twice on one request, and only while the request is pending.

No I/O: the use cases (filing.py, deciding.py) read the rows and pass them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import OutlayError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tools.approvers.chain import Chain, ChainStep, Pick
    from tools.approvers.org import Org


class Refused(OutlayError):
    """The caller may not do this; the message says why and who may."""


@dataclass(frozen=True)
class Member:
    """An employee as the acting rules need them."""

    id: int
    email: str
    name: str
    active: bool


@dataclass(frozen=True)
class Recorded:
    """A decision already recorded on the request."""

    step: int
    approver: str
    on_behalf_of: str | None
    decision: str


@dataclass(frozen=True)
class Turn:
    """The step the decider may decide now; `on_behalf_of`: the assignee they stand in for."""

    number: int
    step: ChainStep
    pick: Pick
    on_behalf_of: str | None


NO_USER = (
    "this token names no user, so it may read and suggest but not {act}: decisions are made by a person. "
    "Use a token (or API key) bound to an employee, or OUTLAY_USER locally"
)


def actor(user: str | None, member: Member | None, company: str, act: str) -> Member:
    """The employee behind the call, or why there is none."""
    if user is None:
        raise Refused(NO_USER.format(act=act))
    if member is None:
        raise Refused(f"{user} is not an employee of {company}, so they may not {act} here")
    if not member.active:
        raise Refused(f"{member.name} ({user}) is no longer active, so they may not {act}")
    return member


def turn(
    org: Org,
    chain: Chain,
    *,
    ref: str,
    status: str,
    requester: str,
    decided: Sequence[Recorded],
    decider: str,
    step: int | None = None,
) -> Turn:
    """The step `decider` may decide on request `ref` now, or why they may not."""
    if status != "pending":
        raise Refused(f"{ref} is already {status}: there is nothing left to decide")
    if decider == requester:
        raise Refused(f"{org.name(decider)} filed {ref} (the requester): nobody decides their own request")
    number = len(decided) + 1
    if step is not None and step != number:
        raise Refused(_moved_on(org, ref, step, number, decided))
    for earlier in decided:
        if decider in (earlier.approver, earlier.on_behalf_of):
            raise Refused(
                f"{org.name(decider)} already decided step {earlier.step} of {ref}: nobody approves a "
                "request twice"
            )
    if number > len(chain.steps):
        raise Refused(
            f"every step the policy requires of {ref} today is decided already ({len(decided)}); "
            "nothing is waiting on anyone"
        )
    current = chain.steps[number - 1]
    if current.pick is None:
        raise Refused(
            f"step {number} of {ref} ({current.requirement}) has no eligible approver: {current.reason}"
        )
    return _turn(org, ref, number, current, current.pick, decider)


def _turn(org: Org, ref: str, number: int, current: ChainStep, pick: Pick, decider: str) -> Turn:
    if decider == pick.assignee:
        return Turn(number, current, pick, None)
    if decider == pick.approver:
        return Turn(number, current, pick, pick.assignee)
    return _not_theirs(org, ref, number, pick, decider)


def _not_theirs(org: Org, ref: str, number: int, pick: Pick, decider: str) -> Turn:
    waits = org.name(pick.approver)
    if pick.on_behalf_of is not None:
        waits = f"{waits} (acting for {org.name(pick.assignee)}, who is away)"
    raise Refused(
        f"step {number} of {ref} waits on {waits}; only they may decide it, not {org.name(decider)}"
    )


def _moved_on(org: Org, ref: str, step: int, number: int, decided: Sequence[Recorded]) -> str:
    done = next((d for d in decided if d.step == step), None)
    if done is not None:
        behalf = f" for {org.name(done.on_behalf_of)}" if done.on_behalf_of else ""
        by = f"{org.name(done.approver)}{behalf}"
        return (
            f"step {step} of {ref} is decided already ({done.decision} by {by}); it is at step {number} now"
        )
    return f"{ref} is at step {number}, not step {step}: steps are decided in order"


def status_after(decision: str, number: int, chain: Chain) -> str:
    """The request's status once step `number` is decided: a rejection ends it, the last approval too."""
    if decision == "rejected":
        return "rejected"
    return "approved" if number >= len(chain.steps) else "pending"

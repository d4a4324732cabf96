"""`min_distinct_approvers`: how many different people a chain needs, and the step that says a chain
cannot have them. The engine resolves a chain that has too few again without covering (rule 7 of
`tools.approvers.engine`); what is still short after that is said here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server.kit.approval_policy import Rule
from tools.approvers.chain import Chain, ChainStep

REQUIREMENT = "min_distinct_approvers"  # the last step of a chain too short for its rules


@dataclass(frozen=True, slots=True)
class Signers:
    """The most different signers an applying rule asks for, and the (first) rule asking."""

    count: int
    rule: str


def wanted(applying: Iterable[Rule]) -> Signers | None:
    asked = [Signers(r.min_distinct_approvers, r.name) for r in applying if r.min_distinct_approvers]
    return max(asked, key=lambda s: s.count, default=None)  # max keeps the first of equals


def count(chain: Chain) -> int:
    """How many different people sign: a delegate counts as the person signing."""
    return len({step.pick.approver for step in chain.steps if step.pick is not None})


def short(chain: Chain, asked: Signers) -> Chain:
    """`chain`, with a last step nobody may take when it is complete but has fewer signers than asked
    (an incomplete chain already says it cannot be approved)."""
    if count(chain) >= asked.count or not chain.complete:
        return chain
    reason = (
        f"rule {asked.rule!r} asks for at least {asked.count} different signers, but the requirements "
        f"that apply bring only {count(chain)}."
    )
    return Chain(chain.rules, (*chain.steps, ChainStep(asked.rule, REQUIREMENT, None, (), reason)))

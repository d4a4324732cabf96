"""What the approval engine answers: the chain of steps, who acts at each, and what they cover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Preference = Callable[[str], tuple[float, ...]]  # a sort key for a person: smaller is preferred


@dataclass(frozen=True, slots=True)
class Pick:
    """One way to fill a step: `approver` acts; `assignee` is whose step it is (they differ when a
    delegate stands in). `escalated`: the assignee is above the person the policy step named."""

    approver: str
    assignee: str
    notes: tuple[str, ...] = ()
    escalated: bool = False

    @property
    def on_behalf_of(self) -> str | None:
        return None if self.assignee == self.approver else self.assignee


@dataclass(frozen=True, slots=True)
class Covered:
    """A requirement met by an approval already in the chain."""

    rule: str
    requirement: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChainStep:
    rule: str  # the first rule that required it
    requirement: str  # the policy step, e.g. "manager_of:team_manager"
    pick: Pick | None  # None: nobody is eligible (`reason` says why)
    alternates: tuple[Pick, ...]
    reason: str
    covers: tuple[Covered, ...] = ()


@dataclass(frozen=True, slots=True)
class Chain:
    rules: tuple[str, ...]  # the rules that apply, in policy order
    steps: tuple[ChainStep, ...]

    @property
    def complete(self) -> bool:
        return all(step.pick is not None for step in self.steps)

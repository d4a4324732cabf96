"""History-aware ranking of the people who could take a pooled step, and how long approvals take.

From past decisions: who usually approves requests of this team (and of its department, the team
just below the top of the hierarchy) and of this category, how long each person takes to decide
(median hours since the previous decision, or since submission for the first step), and how many
open requests wait on them now. Pure: the service feeds it rows from the database, the eval feeds it
the history as it unfolds.

A pooled step ranks its eligible people by affinity (2 x this team's requests + this department's +
this category's, decided in their own name or by their delegate), then by fewer requests waiting on
them, then by faster median decisions.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from tools.approvers.chain import Chain, Preference
from tools.approvers.org import Org, SpendRequest

MIN_DECISIONS = 3  # fewer decisions of one person say little about their speed
TEAM_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class Decision:
    """One past decision, as the ranking needs it."""

    team: str
    category: str | None
    principal: str  # whose step it was: the approver, or whom they stood in for
    approver: str  # who decided
    hours: float  # since the previous decision of the request, or since it was submitted


@dataclass(frozen=True, slots=True)
class Profile:
    approvals_for_team: int
    approvals_for_department: int
    approvals_for_category: int
    median_hours: float | None  # None: too few decisions to say
    pending: int  # open requests waiting on them now


def department(org: Org, team: str) -> str:
    """The team just below the top of the hierarchy that `team` belongs to (itself at the top)."""
    line = org.team_line(team)
    return line[-2] if len(line) > 1 else team


class History:
    """Counters over past decisions; `add` them in any order, then read them for one request."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.by_team: Counter[tuple[str, str]] = Counter()
        self.by_department: Counter[tuple[str, str]] = Counter()
        self.by_category: Counter[tuple[str, str | None]] = Counter()
        self.hours: defaultdict[str, list[float]] = defaultdict(list)
        self.all_hours: list[float] = []
        self.pending: Counter[str] = Counter()

    def add(self, decision: Decision) -> None:
        principal = decision.principal
        self.by_team[principal, decision.team] += 1
        self.by_department[principal, department(self.org, decision.team)] += 1
        if decision.category is not None:
            self.by_category[principal, decision.category] += 1
        self.hours[decision.approver].append(decision.hours)

    def add_typical(self, hours: float) -> None:
        """A decision time of anyone: the company's typical time stands in for people without history."""
        self.all_hours.append(hours)

    def profile(self, email: str, request: SpendRequest) -> Profile:
        return Profile(
            approvals_for_team=self.by_team[email, request.team],
            approvals_for_department=self.by_department[email, department(self.org, request.team)],
            approvals_for_category=self.by_category[email, request.category] if request.category else 0,
            median_hours=self.median_hours(email),
            pending=self.pending[email],
        )

    def median_hours(self, email: str) -> float | None:
        own = self.hours.get(email, [])
        return statistics.median(own) if len(own) >= MIN_DECISIONS else None

    def expected_hours(self, email: str) -> float | None:
        """The person's median decision time, else the company's, else None (no history at all)."""
        own = self.median_hours(email)
        if own is not None:
            return own
        return statistics.median(self.all_hours) if self.all_hours else None

    def preference(self, request: SpendRequest) -> Preference:
        def key(email: str) -> tuple[float, ...]:
            profile = self.profile(email, request)
            speed = math.inf if profile.median_hours is None else profile.median_hours
            return (-affinity(profile), profile.pending, speed)

        return key

    def tie_break(self, request: SpendRequest, first: str, second: str) -> str:
        """Which of history, open workload and speed puts `first` before `second` in `preference`."""
        one, other = self.profile(first, request), self.profile(second, request)
        a, b = self.org.name(first), self.org.name(second)
        if affinity(one) != affinity(other):
            where = f"{request.team}'s requests, 1 per decision on {department(self.org, request.team)}'s"
            category = f" and on {request.category}'s" if request.category else ""
            return (
                f"approval history decided: {a} scores {affinity(one)}, {b} {affinity(other)} "
                f"({TEAM_WEIGHT} points per decision in the last year on {where}{category})"
            )
        if one.pending != other.pending:
            return (
                f"open workload decided (equal history): {one.pending} open requests wait on {a}, "
                f"{other.pending} on {b}"
            )
        if one.median_hours != other.median_hours:
            slower = (
                "too few decisions to tell" if other.median_hours is None else f"{other.median_hours:g} h"
            )
            return (
                f"speed decided (equal history and workload): {a} decides in {one.median_hours:g} h "
                f"(median), {b} {slower}"
            )
        return (
            f"{a} and {b} are equal on history, open workload ({one.pending} open requests each) and "
            "speed, so alphabetical order by e-mail decides"
        )


def affinity(profile: Profile) -> int:
    """How usual a person is for a request: this team's decisions count double, then its department's
    and its category's."""
    return (
        TEAM_WEIGHT * profile.approvals_for_team
        + profile.approvals_for_department
        + profile.approvals_for_category
    )


def expected_total(history: History, chain: Chain) -> float | None:
    """Hours until the last step is decided: steps are decided one after the other."""
    if not chain.steps or not chain.complete:
        return None
    hours = [history.expected_hours(step.pick.approver) for step in chain.steps if step.pick]
    if any(h is None for h in hours):
        return None
    return sum(h for h in hours if h is not None)


def waiting_on(chain: Chain, decided: int) -> str | None:
    """Who an open request waits on, given how many of its steps are decided."""
    steps = [step for step in chain.steps if step.pick is not None]
    pick = steps[decided].pick if decided < len(steps) else None
    return None if pick is None else pick.approver

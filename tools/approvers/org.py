"""The organisation snapshot the approval engine reads: people, teams, categories; plain values.

Everything is keyed by natural key (e-mail, team name, category code), like the import files, so a
snapshot can be built from the database, from a demo company or by hand in a test. Every walk up a
hierarchy stops at a node it has seen, so a malformed snapshot cannot make the engine loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FINANCE_ROLE = "finance"
FINANCE_TEAM = "finance"  # compared in lower case


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str
    team: str
    role: str
    manager: str | None = None  # line manager's e-mail
    limit_minor: int | None = None  # approval limit in company currency; None: cannot approve
    active: bool = True
    away_from: dt.date | None = None
    away_until: dt.date | None = None
    delegate: str | None = None

    def away_on(self, day: dt.date) -> bool:
        return (
            self.away_from is not None
            and self.away_until is not None
            and self.away_from <= day <= self.away_until
        )


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    parent: str | None = None
    manager: str | None = None
    cost_center: str | None = None


@dataclass(frozen=True, slots=True)
class SpendRequest:
    """What is being asked for; the amount is in company currency (converted before it gets here)."""

    requester: str
    team: str
    amount_minor: int
    category: str | None = None
    payment_type: str = "card"


class Org:
    """A company's people and teams, with the lookups the engine needs."""

    def __init__(
        self,
        people: Iterable[Person],
        teams: Iterable[Team],
        currency: str,
        category_parents: Mapping[str, str | None] | None = None,
    ) -> None:
        self.people = {person.email: person for person in people}
        self.teams = {team.name: team for team in teams}
        self.currency = currency
        self.category_parents = dict(category_parents or {})
        # A company that records no approval limit at all does not use them: nobody would qualify.
        self.limits_in_use = any(person.limit_minor is not None for person in self.people.values())
        roles: dict[str, list[str]] = {}
        for person in self.people.values():
            roles.setdefault(person.role, []).append(person.email)
        self.by_role = {role: tuple(sorted(emails)) for role, emails in roles.items()}

    def name(self, email: str) -> str:
        person = self.people.get(email)
        return person.name if person else email

    def team_line(self, team: str | None) -> list[str]:
        """The team and the teams above it, nearest first."""
        return _line(team, {name: t.parent for name, t in self.teams.items()}, self.teams)

    def category_line(self, code: str | None) -> list[str]:
        """The category and its parents, nearest first."""
        return _line(code, self.category_parents, self.category_parents)

    def management_line(self, email: str) -> list[str]:
        """The people above `email` by line manager, nearest first."""
        links = {address: person.manager for address, person in self.people.items()}
        return _line(email, links, self.people)[1:]

    def team_manager(self, team: str) -> tuple[str, str] | None:
        """(manager, team they manage) of the nearest team at or above `team` that has a manager."""
        for name in self.team_line(team):
            manager = self.teams[name].manager
            if manager in self.people:
                return manager, name
        return None

    def superior(self, email: str) -> str | None:
        """Who is above `email`: their line manager, or else the manager of the nearest team at or
        above theirs that someone else manages."""
        person = self.people.get(email)
        if person is None:
            return None
        if person.manager in self.people and person.manager != email:
            return person.manager
        for name in self.team_line(person.team):
            manager = self.teams[name].manager
            if manager in self.people and manager != email:
                return manager
        return None

    def superiors(self, email: str) -> list[str]:
        """Everyone above `email` by `superior`, nearest first: their reporting line upwards."""
        line: list[str] = []
        current = self.superior(email)
        while current is not None and current != email and current not in line:
            line.append(current)
            current = self.superior(current)
        return line

    def reports_to(self, email: str, boss: str) -> bool:
        """`email` is below `boss` in the reporting line (a direct or indirect report)."""
        return boss in self.superiors(email)

    def cost_center_of(self, team: str) -> str | None:
        return next(
            (self.teams[n].cost_center for n in self.team_line(team) if self.teams[n].cost_center), None
        )

    def cost_center_teams(self, center: str) -> list[str]:
        """The teams that own a cost center: those carrying it whose parent does not."""
        return sorted(
            name
            for name, team in self.teams.items()
            if team.cost_center == center
            and (team.parent not in self.teams or self.teams[team.parent].cost_center != center)
        )

    def finance_members(self) -> tuple[tuple[str, ...], str]:
        """The people a `finance_team` step may go to, and how they were chosen: the holders of the role
        `finance`; without any, the members of the team named Finance and of the teams below it."""
        if holders := self.by_role.get(FINANCE_ROLE):
            return holders, f"anyone with the role {FINANCE_ROLE!r}"
        finance = [name for name in self.teams if name.lower() == FINANCE_TEAM]
        members = sorted(
            person.email
            for person in self.people.values()
            if finance and finance[0] in self.team_line(person.team)
        )
        return tuple(members), "anyone in the Finance team"


def _line(start: str | None, parents: Mapping[str, str | None], known: Mapping[str, object]) -> list[str]:
    line: list[str] = []
    node = start
    while node is not None and node in known and node not in line:
        line.append(node)
        node = parents.get(node)
    return line

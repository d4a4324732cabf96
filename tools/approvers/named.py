"""Whom each kind of policy step names, before any check (rule 1 of `tools.approvers.engine`), and
why them in plain words: the start of a step's reason. Pure reads of the organisation snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from tools.approvers.org import Org


@dataclass(frozen=True, slots=True)
class Named:
    """The people a step names before any check, and why them."""

    people: tuple[str, ...]
    basis: str


def team_manager(org: Org, team: str) -> Named:
    found = org.team_manager(team)
    if found is None:
        return Named((), f"neither {team} nor any team above it has a manager")
    manager, managed = found
    above = "" if managed == team else f" ({team} has no manager; {managed} is the nearest team above)"
    return Named((manager,), f"{org.name(manager)} manages {managed}{above}")


def cost_center_owners(org: Org, team: str) -> Named:
    center = org.cost_center_of(team)
    if center is None:
        return Named((), f"{team} has no cost center, nor has any team above it")
    owners = sorted({found[0] for t in org.cost_center_teams(center) if (found := org.team_manager(t))})
    if not owners:
        return Named((), f"no team that owns cost center {center} has a manager")
    names = ", ".join(org.name(owner) for owner in owners)
    return Named(tuple(owners), f"{names} {'owns' if len(owners) == 1 else 'own'} cost center {center}")


def finance(org: Org) -> Named:
    members, how = org.finance_members()
    if not members:
        return Named((), "nobody has the role 'finance' and no team is named Finance")
    return Named(members, f"{how} ({len(members)} people)")


def role(org: Org, name: str) -> Named:
    holders = org.by_role.get(name, ())
    if not holders:
        return Named((), f"nobody has the role {name!r}")
    if len(holders) == 1:
        return Named(holders, f"{org.name(holders[0])} has the role {name!r}")
    return Named(holders, f"anyone with the role {name!r} ({len(holders)} people)")


def employee(org: Org, email: str) -> Named:
    if email not in org.people:
        return Named((), f"{email}, named by the policy, is not an employee")
    return Named((email,), f"the policy names {org.name(email)}")

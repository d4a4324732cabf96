"""Acme's organisation: teams with cost centers, people with roles, managers, limits and absences.

The CEO heads the Executive team; each department under it is headed by a director (the CFO heads
Finance, the IT lead heads IT) and sub-teams by managers. Teams bigger than a manager's span get team
leads. Leaders were all there before the window; a third of the others are hired during it (which is
the headcount growth), and a few leave (inactive in employees.csv).
"""

from __future__ import annotations

import datetime as dt
import math
import random

from server.demo.model import Org, Person, Team
from server.demo.people import NameMaker
from server.demo.places import CITIES
from server.demo.teams import TEAM_CATALOGUE, team_count
from server.demo.timeline import Window, add_months, rng_for

# Approval authority in EUR grows with seniority; plain employees cannot approve.
LIMITS_EUR = {
    "ceo": 1_000_000,
    "cfo": 250_000,
    "finance": 50_000,
    "director": 25_000,
    "it_lead": 10_000,
    "manager": 5_000,
}
SPAN = 9  # direct reports per team lead before another lead is added
HIRED_IN_WINDOW = 0.35
LEAVER_SHARE = 0.06


def build_org(seed: int, employees: int, window: Window) -> Org:
    rng = rng_for(seed, "org")
    names = NameMaker(seed, rng)
    teams = _teams(team_count(employees))
    sizes = _allocate(teams, employees)
    by_name = {team.name: team for team in teams}
    people: list[Person] = []
    for team in teams:  # parents come first, so their heads exist when a sub-team is staffed
        parent = by_name[team.parent] if team.parent else None
        people.extend(_staff(team, sizes[team.name], parent, names, rng, window))
    _mark_leavers(people, rng, window)
    org = Org(teams, people)
    _mark_absences(org, rng, window.today)
    return org


def _teams(count: int) -> list[Team]:
    specs = TEAM_CATALOGUE[:count]
    teams, children = [], {spec.name: 0 for spec in specs}
    centers: dict[str, int] = {}
    for spec in specs:
        if spec.parent is None:
            centers[spec.name] = 1000
        else:
            children[spec.parent] += 1
            step = 100 if spec.parent == specs[0].name else 10
            centers[spec.name] = centers[spec.parent] + step * children[spec.parent]
        teams.append(Team(spec.name, spec.parent, f"CC-{centers[spec.name]}", spec.profile, spec.home))
    return teams


def _allocate(teams: list[Team], employees: int) -> dict[str, int]:
    """Headcount per team (heads included) by largest remainder; Finance gets at least three."""
    weights = {spec.name: spec.weight for spec in TEAM_CATALOGUE}
    minimum = {
        team.name: 3 if team.profile == "finance" and team.parent == "Executive" else 1 for team in teams
    }
    spare = employees - sum(minimum.values())
    if spare < 0:
        raise ValueError(f"employees={employees} is too small for {len(teams)} teams")
    total = sum(weights[team.name] for team in teams)
    shares = {team.name: spare * weights[team.name] / total for team in teams}
    sizes = {name: minimum[name] + int(share) for name, share in shares.items()}
    by_remainder = sorted(shares, key=lambda name: shares[name] - int(shares[name]), reverse=True)
    for name in by_remainder[: employees - sum(sizes.values())]:
        sizes[name] += 1
    return sizes


def _head_role(team: Team) -> str:
    if team.parent is None:
        return "ceo"
    if team.parent != TEAM_CATALOGUE[0].name:
        return "manager"
    return {"finance": "cfo", "it": "it_lead"}.get(team.profile, "director")


def _staff(
    team: Team, size: int, parent: Team | None, names: NameMaker, rng: random.Random, window: Window
) -> list[Person]:
    boss = parent.manager_email if parent else None
    head = _new_person(team, _head_role(team), boss, names, rng, window, leader=True)
    team.manager_email = head.email
    crew = [head]
    leads = max(0, math.ceil((size - 1) / SPAN) - 1) if size - 1 > SPAN + 1 else 0
    for _ in range(leads):
        crew.append(_new_person(team, "manager", head.email, names, rng, window, leader=True))
    member_role = "finance" if team.profile == "finance" else "employee"
    for index in range(size - 1 - leads):
        boss = crew[index % (leads + 1)].email if leads else head.email
        crew.append(_new_person(team, member_role, boss, names, rng, window, leader=False))
    return crew


def _new_person(
    team: Team,
    role: str,
    manager: str | None,
    names: NameMaker,
    rng: random.Random,
    window: Window,
    *,
    leader: bool,
) -> Person:
    home = _home(team, rng)
    name, email = names.person(CITIES[home].country)
    limit = LIMITS_EUR.get(role)
    return Person(
        email=email,
        name=name,
        team=team.name,
        role=role,
        home=home,
        start=_start_date(rng, window, leader),
        manager_email=manager,
        approval_limit_minor=None if limit is None else limit * 100,
        intensity=rng.lognormvariate(0, 0.3),
    )


def _home(team: Team, rng: random.Random) -> str:
    # Munich and Berlin teams have some people in the other office; abroad everyone is local.
    if team.home in ("MUC", "BER") and rng.random() < 0.15:
        return "BER" if team.home == "MUC" else "MUC"
    return team.home


def _start_date(rng: random.Random, window: Window, leader: bool) -> dt.date:
    if leader or rng.random() > HIRED_IN_WINDOW:
        return window.start - dt.timedelta(days=rng.randint(45, 2400))
    # Contracts start on the 1st or the 15th; the first weekday from there is the first day.
    month = add_months(window.start, rng.randrange(len(window.months)))
    day = month.replace(day=rng.choice((1, 15)))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return min(day, window.today)


def _mark_leavers(people: list[Person], rng: random.Random, window: Window) -> None:
    """Some plain employees left during the window: inactive, and they stop spending on `end`."""
    last_possible = window.today - dt.timedelta(days=7)
    for person in people:
        if person.role != "employee" or rng.random() >= LEAVER_SHARE:
            continue
        earliest = max(person.start + dt.timedelta(days=120), window.start + dt.timedelta(days=30))
        if earliest < last_possible:
            person.end = earliest + dt.timedelta(days=rng.randrange((last_possible - earliest).days))


def _mark_absences(org: Org, rng: random.Random, today: dt.date) -> None:
    """A few people are away around `today`: always busy approvers (the IT lead, the head of the
    biggest team, someone in finance) so that the recent history shows delegates deciding."""
    settled = today - dt.timedelta(days=30)
    active = [p for p in org.people if p.active and p.role != "ceo" and p.start < settled]
    biggest = sorted((t for t in org.teams if t.parent), key=lambda t: -len(org.members[t.name]))
    heads = [org.by_email[t.manager_email] for t in biggest if t.manager_email]
    chosen = (org.with_role("it_lead") + [h for h in heads if h.role != "it_lead"])[:2]
    finance = [p for p in active if p.role == "finance"]
    chosen += rng.sample(finance, min(1, len(finance)))
    others = [p for p in active if p not in chosen]
    wanted = max(len(chosen) + 1, round(len(active) * 0.03))
    chosen += rng.sample(others, max(0, min(len(others), wanted - len(chosen))))
    for index, person in enumerate(chosen):
        current = index < 3 or rng.random() < 0.7
        start = (
            today - dt.timedelta(days=rng.randint(10, 20))
            if current
            else today + dt.timedelta(rng.randint(2, 10))
        )
        person.ooo_from, person.ooo_until = start, start + dt.timedelta(days=rng.randint(14, 24))
    for person in chosen:
        person.delegate_email = _delegate(org, person, chosen, rng)


def _delegate(org: Org, person: Person, away: list[Person], rng: random.Random) -> str | None:
    """A report who leads (for heads), a colleague (finance, employees), else the line manager."""
    if person.role == "finance":
        pool = [p for p in org.members[person.team] if p.role in ("finance", "cfo")]
    elif person.email == org.by_team[person.team].manager_email:
        pool = [
            p for p in org.members[person.team] if p.role == "manager" and p.manager_email == person.email
        ]
    else:
        pool = list(org.members[person.team])
    pool = [p for p in pool if p is not person and p.active and p not in away]
    if pool:
        return rng.choice(pool).email
    manager = org.by_email.get(person.manager_email or "")
    return manager.email if manager and manager not in away else None

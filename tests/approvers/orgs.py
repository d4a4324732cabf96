"""A small hand-made organisation for the engine tests, and helpers to route requests through it.

Executive   CC-100  Clara (ceo, 1,000,000)          IT lead Ivan (10,000) sits here too
├── Finance CC-200  Felix (cfo, 250,000); Ada, Ben (finance, 50,000)
├── Engineering CC-300  Tara (director, 25,000)
│   ├── Platform CC-310  Lee (manager, 5,000); Dev (employee)
│   └── Research CC-300  no manager; Rhea (employee)
└── Sales   CC-400  Sam (manager, 5,000); Rita (employee); Olaf (manager, inactive)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from server.kit.approval_policy import Policy
from server.kit.money import to_minor
from tools.approvers.chain import Chain, Pick, Preference
from tools.approvers.engine import evaluate
from tools.approvers.invariants import violations
from tools.approvers.org import Org, Person, SpendRequest, Team

TODAY = dt.date(2026, 7, 20)
Rule = tuple[str, dict[str, Any], list[str]]  # name, when, steps
DOMAIN = "@x.io"  # people are written by the local part of their e-mail; `at` adds the domain
AWAY = {"away_from": dt.date(2026, 7, 13), "away_until": dt.date(2026, 7, 31)}


def at(local: str) -> str:
    return local + DOMAIN


def _eur(amount: str) -> int:
    return to_minor(amount, "EUR")


TEAMS = (
    Team("Executive", None, at("ceo"), "CC-100"),
    Team("Finance", "Executive", at("cfo"), "CC-200"),
    Team("Engineering", "Executive", at("cto"), "CC-300"),
    Team("Platform", "Engineering", at("lead"), "CC-310"),
    Team("Research", "Engineering", None, "CC-300"),
    Team("Sales", "Executive", at("sam"), "CC-400"),
)


def _person(
    local: str, name: str, team: str, role: str, manager: str | None, limit: str | None = None
) -> Person:
    return Person(
        at(local), name, team, role, manager and at(manager), None if limit is None else _eur(limit)
    )


PEOPLE = (
    _person("ceo", "Clara", "Executive", "ceo", None, "1000000"),
    _person("cfo", "Felix", "Finance", "cfo", "ceo", "250000"),
    _person("ada", "Ada", "Finance", "finance", "cfo", "50000"),
    _person("ben", "Ben", "Finance", "finance", "cfo", "50000"),
    _person("cto", "Tara", "Engineering", "director", "ceo", "25000"),
    _person("lead", "Lee", "Platform", "manager", "cto", "5000"),
    _person("dev", "Dev", "Platform", "employee", "lead"),
    _person("rhea", "Rhea", "Research", "employee", "cto"),
    _person("ivan", "Ivan", "Executive", "it_lead", "ceo", "10000"),
    _person("sam", "Sam", "Sales", "manager", "ceo", "5000"),
    _person("rita", "Rita", "Sales", "employee", "sam"),
    dataclasses.replace(_person("olaf", "Olaf", "Sales", "manager", "sam", "5000"), active=False),
)
CATEGORIES = {"TRAVEL": None, "TRAVEL-AIR": "TRAVEL", "SOFTWARE": None, "MEALS": None}


def org(
    *changes: dict[str, Any], teams: tuple[Team, ...] = TEAMS, people: tuple[Person, ...] = PEOPLE
) -> Org:
    """The reference org; each change is {"who": local part, field: value, ...} applied to that person
    (`manager` and `delegate` given by local part too)."""
    edits = {at(change["who"]): _fields(change) for change in changes}
    changed = [dataclasses.replace(p, **edits[p.email]) if p.email in edits else p for p in people]
    return Org(changed, teams, "EUR", CATEGORIES)


def _fields(change: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in change.items() if key != "who"}
    for key in ("manager", "delegate"):
        if isinstance(fields.get(key), str):
            fields[key] = at(fields[key])
    return fields


def policy(*rules: Rule) -> Policy:
    return Policy.model_validate({"rules": [{"name": n, "when": w, "steps": s} for n, w, s in rules]})


MANAGER: Rule = ("Manager signs everything", {}, ["team_manager"])
LARGE: Rule = ("Over 5,000", {"amount_over": "5000"}, ["manager_of:team_manager", "finance_team"])


def route(
    rules: Policy,
    requester: str,
    amount: str,
    *,
    company: Org | None = None,
    team: str | None = None,
    category: str | None = None,
    payment_type: str = "card",
    prefer: Preference | None = None,
) -> Chain:
    company = company or org()
    home = company.people[at(requester)].team
    request = SpendRequest(at(requester), team or home, _eur(amount), category, payment_type)
    chain = evaluate(rules, company, request, TODAY, prefer)
    assert violations(rules, company, request, TODAY, chain) == []  # whatever else the test checks
    return chain


def local(email: str) -> str:
    return email.removesuffix(DOMAIN)


def acting(chain: Chain) -> list[str | None]:
    """Who acts at each step (None: nobody eligible), a delegate written as 'delegate>absent'."""
    return [None if step.pick is None else _acts(step.pick) for step in chain.steps]


def _acts(pick: Pick) -> str:
    behalf = f">{local(pick.assignee)}" if pick.on_behalf_of else ""
    return local(pick.approver) + behalf


def alternates(chain: Chain, index: int = 0) -> list[str]:
    return [_acts(pick) for pick in chain.steps[index].alternates]

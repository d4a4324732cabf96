"""Acme's approval policy (approval_policy.json) and how a request's chain is resolved under it.

The history in approval_history.csv is produced with these resolution conventions:

- every rule whose `when` holds adds its steps, in the order the rules are listed;
- `amount_over` / `amount_at_least` compare the amount in company currency;
- `team_manager` is the manager of the request's team; `manager_of:<step>` the line manager of whoever
  that earlier step resolved to; `finance_team` one member with role `finance`; `role:<r>` the person
  with that role; `employee:<email>` that person;
- a step that resolves to the requester goes to the requester's line manager instead (nobody approves
  their own spend); a step with nobody left is skipped, and so is a person already in the chain;
- when the approver is out of office on the decision day, their delegate decides on their behalf.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.demo.model import Org, Person


@dataclass(frozen=True, slots=True)
class Request:
    requester: Person
    team: str
    category: str
    amount_company_minor: int
    payment_type: str


@dataclass(frozen=True, slots=True)
class Step:
    rule: str
    spec: str
    approver: Person


def _rule(name: str, when: dict[str, Any], steps: list[str]) -> dict[str, Any]:
    return {"name": name, "when": when, "steps": steps}


def build_policy(org: Org) -> dict[str, Any]:
    """The rules only name roles, teams and people this org has (small demo companies lack some)."""
    return {"rules": _amount_rules(org) + _specialist_rules(org)}


def _amount_rules(org: Org) -> list[dict[str, Any]]:
    """The bigger the spend, the more senior the approvers."""
    rules = [
        _rule("Manager signs everything", {}, ["team_manager"]),
        _rule(
            "Over 5,000 EUR: second level and finance",
            {"amount_over": "5000"},
            ["manager_of:team_manager", "finance_team"],
        ),
        _rule("Over 25,000 EUR: CFO", {"amount_over": "25000"}, ["role:cfo"]),
        _rule(
            "Invoices over 10,000 EUR: CFO",
            {"payment_type_in": ["invoice"], "amount_over": "10000"},
            ["role:cfo"],
        ),
    ]
    heads = [role for role in ("director", "it_lead") if org.with_role(role)]
    if heads:
        when = {"requester_role_in": heads, "amount_over": "2000"}
        rules.append(_rule("Directors' own spend over 2,000 EUR: CFO", when, ["role:cfo"]))
    return rules


def _specialist_rules(org: Org) -> list[dict[str, Any]]:
    """Some kinds of spend also need the person who owns that kind of spend."""
    events = {"category_in": ["MARKETING-EVENTS"], "amount_over": "20000"}
    rules = [_rule("Trade fairs and sponsoring over 20,000 EUR: CEO", events, ["role:ceo"])]
    if org.with_role("it_lead"):
        rules.append(
            _rule("Software and cloud: IT", {"category_in": ["SOFTWARE", "CLOUD"]}, ["role:it_lead"])
        )
        hardware = {"category_in": ["HARDWARE"], "amount_over": "1500"}
        rules.append(_rule("Hardware over 1,500 EUR: IT", hardware, ["role:it_lead"]))
    people_head = next((t.manager_email for t in org.teams if t.profile == "people" and t.parent), None)
    if people_head:
        recruiting = {"category_in": ["RECRUITING"]}
        rules.append(_rule("Recruiting: Head of People", recruiting, [f"employee:{people_head}"]))
    sales = [t.name for t in org.teams if t.profile == "sales" and t.parent != "Executive"]
    if sales:
        entertainment = {"team_in": sales, "category_in": ["MEALS-CLIENT"]}
        rules.append(
            _rule(
                "Sales teams' client entertainment: second level", entertainment, ["manager_of:team_manager"]
            )
        )
    return rules


class Policy:
    def __init__(self, document: dict[str, Any], org: Org) -> None:
        self.rules: list[dict[str, Any]] = document["rules"]
        self._org = org
        self._by_role: dict[str, list[Person]] = {}
        for person in org.people:  # in file order, so `role:` resolves to the same person every time
            self._by_role.setdefault(person.role, []).append(person)

    def chain(self, request: Request, day: dt.date, rng: random.Random) -> list[Step]:
        steps: list[Step] = []
        resolved: dict[str, Person | None] = {}
        for rule in self.rules:
            if not self.matches(rule["when"], request):
                continue
            for spec in rule["steps"]:
                person = self._resolve(spec, request, resolved, day, rng)
                resolved.setdefault(spec, person)
                if person is not None and all(step.approver is not person for step in steps):
                    steps.append(Step(rule["name"], spec, person))
        return steps

    def matches(self, when: dict[str, Any], request: Request) -> bool:
        return all(self._holds(key, value, request) for key, value in when.items())

    @staticmethod
    def _holds(key: str, value: Any, request: Request) -> bool:
        if key in ("amount_over", "amount_at_least"):
            threshold = Decimal(value) * 100
            amount = request.amount_company_minor
            return amount > threshold if key == "amount_over" else amount >= threshold
        actual = {
            "category_in": request.category,
            "team_in": request.team,
            "requester_role_in": request.requester.role,
            "payment_type_in": request.payment_type,
        }[key]
        return actual in value

    def _resolve(
        self,
        spec: str,
        request: Request,
        resolved: dict[str, Person | None],
        day: dt.date,
        rng: random.Random,
    ) -> Person | None:
        org = self._org
        kind, _, argument = spec.partition(":")
        person: Person | None = None
        if kind == "team_manager":
            person = org.by_email.get(org.by_team[request.team].manager_email or "")
        elif kind == "manager_of":
            base = resolved.get(argument)
            person = org.by_email.get(base.manager_email or "") if base else None
        elif kind == "finance_team":
            pool = [
                p
                for p in self._by_role.get("finance", [])
                if p.employed_on(day) and p is not request.requester
            ]
            person = rng.choice(pool) if pool else None
        elif kind == "role":
            person = next((p for p in self._by_role.get(argument, []) if p.employed_on(day)), None)
        elif kind == "employee":
            person = org.by_email.get(argument)
        return self._not_the_requester(person, request.requester)

    def _not_the_requester(self, person: Person | None, requester: Person) -> Person | None:
        while person is requester and person is not None:
            person = self._org.by_email.get(person.manager_email or "")
        return person

"""Acme's approval policy (approval_policy.json) and how a request's chain is resolved under it.

The history in approval_history.csv follows the rules of the approval engine (docs/approval-policy.md,
`tools/approvers/engine.py`), implemented again here on the demo's own objects so that replaying the
history is an independent check of the engine (`outlay eval approvers`):

- every rule whose `when` holds adds its steps, in policy order; amounts compare in company currency;
  `category_in` and `team_in` match sub-categories and sub-teams too;
- `team_manager` is the manager of the nearest team at or above the request's team; `manager_of:<step>`
  the superior of whoever that step was assigned to; `finance_team` a member with role `finance`;
  `role:<r>` the holder of that role; `employee:<email>` that person;
- someone who is the requester, not employed, or whose approval limit is below the amount is replaced
  by their superior (line manager), and so on up; nobody left: no approval for that step;
- nobody approves twice: a step whose person is already in the chain is covered by them, a repeated
  requirement is one step, and finance takes a member not yet in the chain: usually the finance
  partner of the request's department, sometimes whoever is free;
- an approver out of office on the decision day has their delegate decide on their behalf (a delegate
  who is away passes it on); with no usable delegate their superior decides instead;
- the policy's controls, both on: nobody below the requester (their reports, direct or not) approves
  or stands in, and a delegate's decision covers only the absent person's own step: a later step that
  falls on the absent person or on the delegate goes to the superior of that person instead;
- `min_distinct_approvers` (3 over 5,000 EUR): while fewer people sign than asked, a step falling on
  one who does goes up to the first superior who may approve and does not sign yet.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.demo.categories import BY_CODE
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
    covered: bool = False  # the same person approves an earlier step: no decision of its own, unless a
    # delegate decided that one (a delegate's decision covers only the absent person's own step)


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
    rules[1]["min_distinct_approvers"] = 3  # never fewer than three people sign over 5,000 EUR
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


PARTNER_SHARE = 0.85  # finance steps that go to the department's finance partner


class Policy:
    def __init__(self, document: dict[str, Any], org: Org) -> None:
        self.rules: list[dict[str, Any]] = document["rules"]
        self._org = org
        self._by_role: dict[str, list[Person]] = {}
        for person in org.people:  # in file order, so `role:` resolves to the same person every time
            self._by_role.setdefault(person.role, []).append(person)
        # Each department has a finance partner: the longest-serving finance people, one department each.
        finance = sorted(self._by_role.get("finance", []), key=lambda p: (p.start, p.email))
        departments = [t.name for t in org.teams if t.parent is not None and t.parent == org.teams[0].name]
        self._partner = {
            name: finance[index % len(finance)] for index, name in enumerate(departments) if finance
        }

    def chain(self, request: Request, day: dt.date, rng: random.Random) -> list[Step]:
        steps: list[Step] = []
        assigned: dict[str, Person | None] = {}
        for rule in self.rules:
            if not self.matches(rule["when"], request):
                continue
            for spec in rule["steps"]:
                if spec in assigned:  # the same requirement from another rule: one approval
                    continue
                person = self._resolve(spec, request, assigned, steps, day, rng)
                assigned[spec] = person
                if person is not None:
                    covered = any(step.approver is person for step in steps)
                    steps.append(Step(rule["name"], spec, person, covered))
        return self._distinct(steps, request, day)

    def _distinct(self, steps: list[Step], request: Request, day: dt.date) -> list[Step]:
        """`min_distinct_approvers`: while fewer people than the applying rules ask have signed, a step
        falling on one of them is not covered but goes up to the first superior not yet signing."""
        wanted = max(
            (r.get("min_distinct_approvers") or 0 for r in self.rules if self.matches(r["when"], request)),
            default=0,
        )
        if len({step.approver for step in steps}) >= wanted:
            return steps
        signing: list[Person] = []
        result: list[Step] = []
        for step in steps:
            if step.covered and len(signing) < wanted:
                above = self._above(step.approver, request, day, signing)
                step = step if above is None else Step(step.rule, step.spec, above)
            if not step.covered:
                signing.append(step.approver)
            result.append(step)
        return result

    def _above(self, person: Person, request: Request, day: dt.date, signing: list[Person]) -> Person | None:
        seen: set[str] = set()
        above = self.superior(person)
        while above is not None and above.email not in seen:
            seen.add(above.email)
            if above not in signing and self.fit(above, request, day):
                return above
            above = self.superior(above)
        return None

    def matches(self, when: dict[str, Any], request: Request) -> bool:
        return all(self._holds(key, value, request) for key, value in when.items())

    def _holds(self, key: str, value: Any, request: Request) -> bool:
        if key in ("amount_over", "amount_at_least"):
            threshold = Decimal(value) * 100
            amount = request.amount_company_minor
            return amount > threshold if key == "amount_over" else amount >= threshold
        if key == "category_in":
            return any(code in value for code in _line(request.category, _CATEGORY_PARENTS))
        if key == "team_in":
            parents = {t.name: t.parent for t in self._org.teams}
            return any(name in value for name in _line(request.team, parents))
        actual = {"requester_role_in": request.requester.role, "payment_type_in": request.payment_type}[key]
        return actual in value

    def _resolve(
        self,
        spec: str,
        request: Request,
        assigned: dict[str, Person | None],
        steps: list[Step],
        day: dt.date,
        rng: random.Random,
    ) -> Person | None:
        org = self._org
        kind, _, argument = spec.partition(":")
        if kind == "finance_team":
            return self._finance(request, steps, day, rng)
        named: Person | None = None
        if kind == "team_manager":
            named = org.by_email.get(org.by_team[request.team].manager_email or "")
        elif kind == "manager_of":
            base = assigned.get(argument)
            named = self.superior(base) if base else None
        elif kind == "role":
            named = next((p for p in self._by_role.get(argument, []) if p.employed_on(day)), None)
        elif kind == "employee":
            named = org.by_email.get(argument)
        return self.authorized(named, request, day)

    def _finance(
        self, request: Request, steps: list[Step], day: dt.date, rng: random.Random
    ) -> Person | None:
        taken = {step.approver for step in steps}
        members = [p for p in self._by_role.get("finance", []) if p.employed_on(day)]
        free = [p for p in members if self.fit(p, request, day) and p not in taken]
        if not free:  # nobody in finance may approve this: whoever is above them does
            above = [self.authorized(p, request, day) for p in members]
            return next((p for p in above if p is not None), None)
        free = [p for p in free if not p.away_on(day)] or free  # someone in the office, if anyone
        partner = self._partner.get(_department(self._org, request.team))
        if partner in free and rng.random() < PARTNER_SHARE:
            return partner
        return rng.choice(free)

    def fit(self, person: Person, request: Request, day: dt.date) -> bool:
        limit = person.approval_limit_minor
        return (
            person is not request.requester
            and not self.reports_to(person, request.requester)
            and person.employed_on(day)
            and limit is not None
            and limit >= request.amount_company_minor
        )

    def authorized(self, person: Person | None, request: Request, day: dt.date) -> Person | None:
        """`person`, or the first one above them who may approve the request."""
        seen: set[str] = set()
        while person is not None and person.email not in seen and not self.fit(person, request, day):
            seen.add(person.email)
            person = self.superior(person)
        return person if person is not None and self.fit(person, request, day) else None

    def superior(self, person: Person) -> Person | None:
        return self._org.by_email.get(person.manager_email or "")

    def reports_to(self, person: Person, boss: Person) -> bool:
        """`person` is below `boss` by line manager, directly or not."""
        seen: set[str] = set()
        above = self.superior(person)
        while above is not None and above.email not in seen:
            if above is boss:
                return True
            seen.add(above.email)
            above = self.superior(above)
        return False

    def uncovered(self, step: Step, request: Request, day: dt.date) -> Step | None:
        """A covered step whose earlier approval a delegate gave: it goes to the superior of the absent
        person instead (None: nobody above may approve)."""
        above = self.superior(step.approver)
        person = self.authorized(above, request, day) if above else None
        return None if person is None else Step(step.rule, step.spec, person)

    def acting(
        self, approver: Person, request: Request, taken: list[Person], day: dt.date
    ) -> tuple[Person, Person | None] | None:
        """Who decides for `approver` on `day`, and on whose behalf; None when that falls on someone
        already in the chain (their approval covers it)."""
        person: Person | None = approver
        seen: set[str] = set()
        while person is not None and person.email not in seen:
            seen.add(person.email)
            if person is not approver and (person in taken or not self.fit(person, request, day)):
                if person in taken and self.fit(person, request, day):
                    return None
                person = self.superior(person)
                continue
            if not person.away_on(day):
                return person, None
            delegate = self._delegate(person, request, taken, day)
            if delegate is not None:
                return delegate, person
            person = self.superior(person)
        return approver, None  # nobody can stand in: the approver decides when back

    def _delegate(self, person: Person, request: Request, taken: list[Person], day: dt.date) -> Person | None:
        """The delegate who acts for `person` (passed on while delegates are away too), if usable."""
        seen = {person.email}
        current = person
        while current.delegate_email and current.delegate_email not in seen:
            seen.add(current.delegate_email)
            current = self._org.by_email[current.delegate_email]
            if not current.away_on(day):
                usable = (
                    current is not request.requester
                    and not self.reports_to(current, request.requester)
                    and current.active
                    and current not in taken
                )
                return current if usable else None
        return None


_CATEGORY_PARENTS = {code: category.parent for code, category in BY_CODE.items()}


def _line(start: str | None, parents: dict[str, str | None]) -> list[str]:
    line: list[str] = []
    while start is not None and start not in line:
        line.append(start)
        start = parents.get(start)
    return line


def _department(org: Org, team: str) -> str:
    line = _line(team, {t.name: t.parent for t in org.teams})
    return line[-2] if len(line) > 1 else team

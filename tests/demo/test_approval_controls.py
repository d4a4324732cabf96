"""The demo's own approval rules (server/demo/approvals.py) follow the policy's controls, on a tiny
hand-made company: nobody below the requester approves, a delegate's decision covers only the absent
person's step, and `min_distinct_approvers` (docs/approval-policy.md, "Controls")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

from server.demo.approvals import Policy, Request, Step
from server.demo.history import ApprovalDesk, ApprovalRecord
from server.demo.model import Org, Person, Team
from server.demo.timeline import Window

DAY = dt.date(2026, 3, 10)
START = dt.date(2020, 1, 1)


def person(
    local: str, team: str, role: str, manager: str | None, limit: int | None, **more: object
) -> Person:
    email = f"{local}@demo.test"
    boss = f"{manager}@demo.test" if manager else None
    return dataclasses.replace(
        Person(email, local.title(), team, role, "MUC", START, boss, limit),
        **more,  # type: ignore[arg-type]
    )


def company(*changes: Person) -> Org:
    people = {
        p.email: p
        for p in (
            person("ceo", "Executive", "ceo", None, 10**9),
            person("cfo", "Finance", "cfo", "ceo", 10**8),
            person("fiona", "Finance", "finance", "cfo", 10**7),
            person("fred", "Finance", "finance", "fiona", 10**7),  # reports to Fiona
            person("max", "Sales", "manager", "ceo", 10**7),
            person("rep", "Sales", "employee", "max", None),
        )
    }
    people.update({p.email: p for p in changes})
    teams = [
        Team("Executive", None, "CC-1", "executive", "MUC", "ceo@demo.test"),
        Team("Finance", "Executive", "CC-2", "finance", "MUC", "cfo@demo.test"),
        Team("Sales", "Executive", "CC-3", "sales", "MUC", "max@demo.test"),
    ]
    return Org(teams, list(people.values()))


def chain(org: Org, rules: list[dict[str, Any]], requester: str, amount: int) -> list[Step]:
    policy = Policy({"rules": rules}, org)
    request = Request(
        org.by_email[f"{requester}@demo.test"],
        org.by_email[f"{requester}@demo.test"].team,
        "MEALS",
        amount,
        "card",
    )
    return policy.chain(request, DAY, random.Random(1))


def names(steps: list[Step]) -> list[str]:
    return [step.approver.email.split("@")[0] + ("=" if step.covered else "") for step in steps]


FINANCE: dict[str, Any] = {"name": "Finance", "when": {}, "steps": ["finance_team"]}
MANAGER: dict[str, Any] = {"name": "Manager", "when": {}, "steps": ["team_manager"]}


def test_finance_never_goes_to_the_requesters_report() -> None:
    org = company()

    for _ in range(20):  # the finance pick is random: whichever it is, it is not Fred
        assert names(chain(org, [FINANCE], "fiona", 100)) == ["cfo"]


def test_a_delegate_below_the_requester_does_not_stand_in() -> None:
    org = company(
        person(
            "cfo",
            "Finance",
            "cfo",
            "ceo",
            10**8,
            ooo_from=DAY,
            ooo_until=DAY,
            delegate_email="fred@demo.test",
        )
    )
    policy = Policy({"rules": [MANAGER]}, org)
    request = Request(org.by_email["fiona@demo.test"], "Finance", "MEALS", 100, "card")

    assert policy.acting(org.by_email["cfo@demo.test"], request, [], DAY) == (
        org.by_email["ceo@demo.test"],
        None,
    )


def test_min_distinct_approvers_sends_a_covered_step_up() -> None:
    org = company()
    second = {"name": "Second", "when": {}, "steps": ["role:manager"], "min_distinct_approvers": 2}

    assert names(chain(org, [MANAGER, {**second, "min_distinct_approvers": None}], "rep", 100)) == [
        "max",
        "max=",
    ]
    assert names(chain(org, [MANAGER, second], "rep", 100)) == ["max", "ceo"]


def test_a_delegates_decision_covers_only_the_absent_persons_step() -> None:
    away = person(
        "max",
        "Sales",
        "manager",
        "ceo",
        10**7,
        ooo_from=DAY,
        ooo_until=DAY + dt.timedelta(days=30),
        delegate_email="fiona@demo.test",
    )
    org = company(away)
    policy = Policy({"rules": [MANAGER, {"name": "Managers", "when": {}, "steps": ["role:manager"]}]}, org)
    desk = ApprovalDesk(7, org, policy, Window.ending(DAY + dt.timedelta(days=40), 3))
    record = ApprovalRecord(
        org.by_email["rep@demo.test"],
        "Sales",
        "MEALS",
        100,
        "EUR",
        100,
        "card",
        "Lunch",
        dt.datetime.combine(DAY, dt.time(9), dt.UTC),
    )

    desk._decide(record, reject_at=None)

    # Fiona decided Max's step for him; Max's other requirement is not covered by her: the CEO decides it.
    assert [(d.approver.email, d.on_behalf_of and d.on_behalf_of.email) for d in record.decisions] == [
        ("fiona@demo.test", "max@demo.test"),
        ("ceo@demo.test", None),
    ]

"""Properties over random organisations, policies, absences and requests (hypothesis).

Random data is allowed to be worse than an import would let through (management and delegation loops,
team cycles, managers of no team), so that termination is tested too. Whatever the input, the chain
never names the requester or anyone ineligible (`tools.approvers.invariants`), and the same input gives the
same chain, whatever order the organisation is listed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.kit.approval_policy import Policy
from tools.approvers.engine import evaluate
from tools.approvers.invariants import violations
from tools.approvers.org import Org, Person, SpendRequest, Team

TODAY = dt.date(2026, 7, 20)
EMAILS = [f"p{index}@x.io" for index in range(8)]
TEAM_NAMES = ["T0", "T1", "T2", "T3"]
ROLES = ["employee", "manager", "finance", "cfo", "director"]
CATEGORIES = {"C0": None, "C1": "C0", "C2": None}
LIMITS = [None, 0, 50_000, 500_000, 5_000_000, 10**9]
SIMPLE_STEPS = [
    "team_manager",
    "cost_center_owner",
    "finance_team",
    "role:manager",
    "role:cfo",
    "role:nobody",
]

step_texts = st.recursive(
    st.sampled_from(SIMPLE_STEPS + [f"employee:{email}" for email in EMAILS]),
    lambda inner: inner.map(lambda text: f"manager_of:{text}"),
    max_leaves=3,
)


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    when: dict[str, Any] = {}
    if draw(st.booleans()):
        when["amount_over"] = str(draw(st.sampled_from([0, 100, 5000, 25000])))
    if draw(st.booleans()):
        when["category_in"] = draw(st.lists(st.sampled_from(sorted(CATEGORIES)), min_size=1, max_size=2))
    if draw(st.booleans()):
        when["team_in"] = draw(st.lists(st.sampled_from(TEAM_NAMES), min_size=1, max_size=2))
    if draw(st.booleans()):
        when["requester_role_in"] = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2))
    if draw(st.booleans()):
        when["payment_type_in"] = draw(st.lists(st.sampled_from(["card", "invoice"]), min_size=1, max_size=2))
    return when


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    count = draw(st.integers(1, 4))
    rules = [
        {
            "name": f"R{index}",
            "when": draw(conditions()),
            "steps": draw(st.lists(step_texts, min_size=1, max_size=3, unique=True)),
        }
        for index in range(count)
    ]
    return Policy.model_validate({"rules": rules})


@st.composite
def people(draw: st.DrawFn, email: str, teams: list[str], emails: list[str]) -> Person:
    away = draw(st.sampled_from([None, (-3, 3), (1, 5), (-9, -1)]))
    return Person(
        email=email,
        name=email.split("@")[0].upper(),
        team=draw(st.sampled_from(teams)),
        role=draw(st.sampled_from(ROLES)),
        manager=draw(st.none() | st.sampled_from(emails)),
        limit_minor=draw(st.sampled_from(LIMITS)),
        active=draw(st.booleans() | st.just(True)),
        away_from=None if away is None else TODAY + dt.timedelta(days=away[0]),
        away_until=None if away is None else TODAY + dt.timedelta(days=away[1]),
        delegate=draw(st.none() | st.sampled_from(emails)),
    )


@st.composite
def companies(draw: st.DrawFn) -> Org:
    emails = EMAILS[: draw(st.integers(2, len(EMAILS)))]
    names = TEAM_NAMES[: draw(st.integers(1, len(TEAM_NAMES)))]
    teams = [
        Team(
            name,
            draw(st.none() | st.sampled_from(names)),
            draw(st.none() | st.sampled_from(emails)),
            draw(st.sampled_from([None, "CC-A", "CC-B"])),
        )
        for name in names
    ]
    persons = [draw(people(email, names, emails)) for email in emails]
    return Org(persons, teams, "EUR", CATEGORIES)


@st.composite
def requests(draw: st.DrawFn, org: Org) -> SpendRequest:
    return SpendRequest(
        requester=draw(st.sampled_from(sorted(org.people))),
        team=draw(st.sampled_from(sorted(org.teams))),
        amount_minor=draw(st.integers(1, 10**8)),
        category=draw(st.none() | st.sampled_from(sorted(CATEGORIES))),
        payment_type=draw(st.sampled_from(["card", "reimbursement", "invoice"])),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Policy, Org, SpendRequest]:
    org = draw(companies())
    return draw(policies()), org, draw(requests(org))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_never_the_requester_nor_anyone_ineligible(case: tuple[Policy, Org, SpendRequest]) -> None:
    policy, org, request = case
    chain = evaluate(policy, org, request, TODAY)

    assert violations(policy, org, request, TODAY, chain) == []


@settings(max_examples=150, deadline=None)
@given(cases())
def test_the_same_input_gives_the_same_chain_whatever_the_order(
    case: tuple[Policy, Org, SpendRequest],
) -> None:
    policy, org, request = case
    shuffled = Org(
        reversed(list(org.people.values())),
        reversed(list(org.teams.values())),
        org.currency,
        org.category_parents,
    )

    assert evaluate(policy, org, request, TODAY) == evaluate(policy, org, request, TODAY)
    assert evaluate(policy, shuffled, request, TODAY) == evaluate(policy, org, request, TODAY)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_every_step_says_why(case: tuple[Policy, Org, SpendRequest]) -> None:
    policy, org, request = case
    chain = evaluate(policy, org, request, TODAY)

    for step in chain.steps:
        assert step.reason.endswith(".")
        if step.pick is None:
            assert not chain.complete
        assert all(pick.approver != request.requester for pick in step.alternates)

"""Properties over random organisations, policies, absences and requests (hypothesis).

Random data is allowed to be worse than an import would let through (management and delegation loops,
team cycles, managers of no team), so that termination is tested too. Whatever the input, the chain
never names the requester or anyone ineligible (`tools.approvers.invariants`), and the same input gives the
same chain, whatever order the organisation is listed in.

The controls (docs/approval-policy.md, "Controls") each have their own property, checked whenever the
random policy leaves the control on: nobody below the requester in their reporting line, a delegate's
signature covering only the absent person's own step, and at least `min_distinct_approvers` different
signers unless a step says nobody is eligible.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.kit.approval_policy import Policy
from tools.approvers import invariants
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

NAMED_STEPS = [f"employee:{email}" for email in EMAILS]
# Mostly plain steps, some one or two levels of manager_of: deeper nesting rarely names anyone.
step_texts = st.builds(
    lambda depth, text: "manager_of:" * depth + text,
    st.sampled_from([0, 0, 0, 1, 1, 2]),
    st.sampled_from(SIMPLE_STEPS) | st.sampled_from(NAMED_STEPS),
)


CONDITIONS = ["amount_over", "category_in", "team_in", "requester_role_in", "payment_type_in"]


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    # Few conditions per rule, so that rules apply often enough for the chains to say something.
    keys = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2, unique=True))
    when: dict[str, Any] = {}
    if "amount_over" in keys:
        when["amount_over"] = str(draw(st.sampled_from([0, 100, 5000, 25000])))
    if "category_in" in keys:
        when["category_in"] = draw(st.lists(st.sampled_from(sorted(CATEGORIES)), min_size=1, max_size=2))
    if "team_in" in keys:
        when["team_in"] = draw(st.lists(st.sampled_from(TEAM_NAMES), min_size=1, max_size=2))
    if "requester_role_in" in keys:
        when["requester_role_in"] = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2))
    if "payment_type_in" in keys:
        when["payment_type_in"] = draw(st.lists(st.sampled_from(["card", "invoice"]), min_size=1, max_size=2))
    return when


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": f"R{index}",
        "when": draw(conditions()),
        "steps": draw(st.lists(step_texts, min_size=1, max_size=3, unique=True)),
    }
    if draw(st.booleans()):
        rule["min_distinct_approvers"] = draw(st.integers(1, 5))
    return rule


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    document: dict[str, Any] = {"rules": [draw(rules(index)) for index in range(draw(st.integers(1, 4)))]}
    controls = {
        name: value
        for name in ("no_approval_from_below", "delegate_covers_own_step_only")
        if (value := draw(st.sampled_from([None, True, False]))) is not None
    }
    if controls:
        document["controls"] = controls
    return Policy.model_validate(document)


@st.composite
def people(draw: st.DrawFn, email: str, teams: list[str], emails: list[str], limits: bool) -> Person:
    away = draw(st.sampled_from([(-3, 3), None, (1, 5), (-9, -1)]))  # away today often enough to matter
    manager = draw(st.sampled_from(emails) | st.none())
    return Person(
        email=email,
        name=email.split("@")[0].upper(),
        team=draw(st.sampled_from(teams)),
        role=draw(st.sampled_from(ROLES)),
        manager=manager,
        limit_minor=draw(st.sampled_from(LIMITS)) if limits else None,
        active=draw(st.sampled_from([True, True, True, False])),
        away_from=None if away is None else TODAY + dt.timedelta(days=away[0]),
        away_until=None if away is None else TODAY + dt.timedelta(days=away[1]),
        delegate=draw(st.just(manager) | st.sampled_from(emails) | st.none()),  # often their manager
    )


@st.composite
def companies(draw: st.DrawFn) -> Org:
    emails = EMAILS[: draw(st.integers(2, len(EMAILS)))]
    names = TEAM_NAMES[: draw(st.integers(1, len(TEAM_NAMES)))]
    teams = [
        Team(
            name,
            draw(st.none() | st.sampled_from(names)),
            draw(st.sampled_from(emails) | st.none()),
            draw(st.sampled_from([None, "CC-A", "CC-B"])),
        )
        for name in names
    ]
    # Without limits anyone may approve anything: the structure of the org decides, which is where the
    # controls bite (with random limits most people would be out of reach of most amounts).
    limits = draw(st.booleans())
    persons = [draw(people(email, names, emails, limits)) for email in emails]
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


@settings(max_examples=300, deadline=None)
@given(cases())
def test_nobody_below_the_requester_approves(case: tuple[Policy, Org, SpendRequest]) -> None:
    policy, org, request = case
    chain = evaluate(policy, org, request, TODAY)

    if policy.controls.no_approval_from_below:
        assert invariants.from_below(org, request, chain) == []


@settings(max_examples=600, deadline=None)  # a delegate in the chain is rarer than the rest
@given(cases())
def test_a_delegate_covers_only_the_absent_persons_own_step(case: tuple[Policy, Org, SpendRequest]) -> None:
    policy, org, request = case
    chain = evaluate(policy, org, request, TODAY)

    if policy.controls.delegate_covers_own_step_only:
        assert invariants.delegate_covers_others(chain) == []


@settings(max_examples=300, deadline=None)
@given(cases())
def test_never_fewer_signers_than_the_policy_asks_unless_the_chain_says_so(
    case: tuple[Policy, Org, SpendRequest],
) -> None:
    policy, org, request = case
    chain = evaluate(policy, org, request, TODAY)

    assert invariants.signers_short(policy, org, request, chain) == []

"""Each kind of policy step and each kind of condition, on the reference org (tests/approvers/orgs.py)."""

from __future__ import annotations

import pytest

from tests.approvers.orgs import LARGE, MANAGER, TEAMS, acting, alternates, at, org, policy, route
from tools.approvers.org import Team


def test_team_manager_is_the_manager_of_the_team_charged() -> None:
    chain = route(policy(MANAGER), "dev", "300")

    assert acting(chain) == ["lead"]
    assert chain.steps[0].rule == "Manager signs everything"
    assert chain.steps[0].requirement == "team_manager"
    assert chain.steps[0].reason == "Lee manages Platform."


def test_the_team_charged_decides_not_the_requesters_own() -> None:
    assert acting(route(policy(MANAGER), "dev", "300", team="Sales")) == ["sam"]


def test_a_team_without_manager_goes_to_the_nearest_team_above() -> None:
    chain = route(policy(MANAGER), "rhea", "300")

    assert acting(chain) == ["cto"]
    assert "Research has no manager; Engineering is the nearest team above" in chain.steps[0].reason


def test_no_manager_anywhere_up_the_teams_is_no_eligible_approver() -> None:
    teams = tuple(Team(t.name, t.parent, None, t.cost_center) for t in TEAMS)
    chain = route(policy(MANAGER), "dev", "300", company=org(teams=teams))

    assert acting(chain) == [None]
    assert not chain.complete
    assert chain.steps[0].reason == "neither Platform nor any team above it has a manager."


def test_manager_of_is_the_superior_of_whoever_the_inner_step_went_to() -> None:
    rules = policy(MANAGER, ("Second level", {}, ["manager_of:team_manager"]))

    assert acting(route(rules, "dev", "300")) == ["lead", "cto"]


def test_manager_of_nests() -> None:
    rules = policy(("Two levels up", {}, ["manager_of:manager_of:team_manager"]))

    assert acting(route(rules, "dev", "300")) == ["ceo"]


def test_manager_of_a_step_not_in_the_chain_names_that_steps_superior() -> None:
    assert acting(route(policy(("Above the CFO", {}, ["manager_of:role:cfo"])), "dev", "300")) == ["ceo"]


def test_manager_of_the_top_of_the_hierarchy_is_covered_by_them() -> None:
    rules = policy(("CEO", {}, ["role:ceo"]), ("Above the CEO", {}, ["manager_of:role:ceo"]))
    chain = route(rules, "dev", "300")

    assert acting(chain) == ["ceo"]
    [covered] = chain.steps[0].covers
    assert (covered.rule, covered.requirement) == ("Above the CEO", "manager_of:role:ceo")
    assert "has nobody above them" in covered.reason


def test_cost_center_owner_is_the_manager_of_the_team_that_owns_it() -> None:
    rules = policy(("Owner", {}, ["cost_center_owner"]))

    assert acting(route(rules, "dev", "300")) == ["lead"]  # Platform has its own CC-310
    assert acting(route(rules, "rhea", "300")) == ["cto"]  # Research shares Engineering's CC-300


def test_several_cost_center_owners_are_a_pool() -> None:
    teams = (*TEAMS[:5], Team("Sales", "Executive", at("sam"), "CC-300"))  # Sales shares CC-300 too
    chain = route(policy(("Owner", {}, ["cost_center_owner"])), "rhea", "300", company=org(teams=teams))

    assert acting(chain) == ["cto"]  # Tara is Rhea's manager: in her line, so first
    assert alternates(chain) == ["sam"]
    assert chain.steps[0].reason.startswith("Tara, Sam own cost center CC-300")


def test_finance_team_is_anyone_with_the_finance_role() -> None:
    chain = route(policy(("Finance", {}, ["finance_team"])), "dev", "300")

    assert acting(chain) == ["ada"]
    assert alternates(chain) == ["ben"]
    assert chain.steps[0].reason.startswith("anyone with the role 'finance' (2 people)")


def test_finance_team_falls_back_to_the_finance_team_members() -> None:
    company = org({"who": "ada", "role": "accountant"}, {"who": "ben", "role": "accountant"})
    chain = route(policy(("Finance", {}, ["finance_team"])), "dev", "300", company=company)

    assert acting(chain) == ["ada"]
    assert alternates(chain) == ["ben", "cfo"]
    assert chain.steps[0].reason.startswith("anyone in the Finance team (3 people)")


def test_role_step_with_one_holder() -> None:
    assert acting(route(policy(("IT", {}, ["role:it_lead"])), "dev", "300")) == ["ivan"]


def test_role_step_with_nobody_in_the_role() -> None:
    chain = route(policy(("Legal", {}, ["role:counsel"])), "dev", "300")

    assert acting(chain) == [None]
    assert chain.steps[0].reason == "nobody has the role 'counsel'."


def test_a_shared_role_prefers_the_holder_in_the_requesters_line() -> None:
    company = org({"who": "sam", "role": "director", "limit_minor": 2_500_000})
    chain = route(policy(("Director", {}, ["role:director"])), "rita", "300", company=company)

    assert acting(chain) == ["sam"]  # Sam is Rita's manager; Tara is not in her line
    assert alternates(chain) == ["cto"]


def test_employee_step_names_one_person() -> None:
    chain = route(policy(("Ask Felix", {}, ["employee:cfo@x.io"])), "dev", "300")

    assert acting(chain) == ["cfo"]
    assert chain.steps[0].reason == "the policy names Felix."


def test_an_inactive_named_employee_is_replaced_by_their_manager() -> None:
    chain = route(policy(("Ask Olaf", {}, ["employee:olaf@x.io"])), "dev", "300")

    assert acting(chain) == ["sam"]
    assert chain.steps[0].reason == "the policy names Olaf; Olaf is no longer active, so it goes up to Sam."


@pytest.mark.parametrize(
    ("when", "amount", "applies"),
    [
        ({"amount_over": "5000"}, "5000.00", False),
        ({"amount_over": "5000"}, "5000.01", True),
        ({"amount_at_least": "5000"}, "4999.99", False),
        ({"amount_at_least": "5000"}, "5000.00", True),
        ({"amount_over": "5000", "amount_at_least": "1000"}, "6000", True),
    ],
)
def test_amount_thresholds_at_their_boundaries(when: dict[str, str], amount: str, applies: bool) -> None:
    chain = route(policy(("Finance", when, ["finance_team"])), "rita", amount)

    assert chain.rules == (("Finance",) if applies else ())


@pytest.mark.parametrize(
    ("when", "applies"),
    [
        ({"category_in": ["TRAVEL"]}, True),  # TRAVEL-AIR is a sub-category of TRAVEL
        ({"category_in": ["TRAVEL-AIR"]}, True),
        ({"category_in": ["SOFTWARE"]}, False),
        ({"team_in": ["Engineering"]}, True),  # Platform is below Engineering
        ({"team_in": ["Sales"]}, False),
        ({"requester_role_in": ["employee"]}, True),
        ({"requester_role_in": ["manager", "director"]}, False),
        ({"payment_type_in": ["invoice"]}, True),
        ({"payment_type_in": ["card"]}, False),
        ({"team_in": ["Platform"], "category_in": ["MEALS"]}, False),  # every condition must hold
    ],
)
def test_conditions(when: dict[str, list[str]], applies: bool) -> None:
    chain = route(
        policy(("Rule", when, ["role:it_lead"])), "dev", "300", category="TRAVEL-AIR", payment_type="invoice"
    )

    assert chain.rules == (("Rule",) if applies else ())


def test_a_request_without_category_matches_no_category_condition() -> None:
    assert route(policy(("Travel", {"category_in": ["TRAVEL"]}, ["role:it_lead"])), "dev", "300").rules == ()


def test_no_rule_applies_means_no_steps_and_a_complete_chain() -> None:
    chain = route(policy(LARGE), "dev", "300")

    assert (chain.rules, chain.steps, chain.complete) == ((), (), True)


def test_steps_come_in_policy_order() -> None:
    rules = policy(("IT", {}, ["role:it_lead"]), MANAGER, ("CFO", {}, ["role:cfo"]))

    assert acting(route(rules, "dev", "300")) == ["ivan", "lead", "cfo"]

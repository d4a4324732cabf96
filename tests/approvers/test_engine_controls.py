"""The controls a controller expects (docs/approval-policy.md, "Controls"), on the reference org of
tests/approvers/orgs.py: nobody approves from below, a delegate covers only the absent person's step,
and `min_distinct_approvers`."""

from __future__ import annotations

from typing import Any

from server.kit.approval_policy import Controls, Policy
from tests.approvers.orgs import AWAY, MANAGER, Rule, acting, org, policy, route

FINANCE: Rule = ("Finance", {}, ["finance_team"])
COST_CENTER: Rule = ("Cost center owner", {}, ["cost_center_owner"])
OFF = Controls(no_approval_from_below=False, delegate_covers_own_step_only=False)


def with_signers(count: int, *rules: Rule) -> Policy:
    document: list[dict[str, Any]] = [{"name": n, "when": w, "steps": s} for n, w, s in rules]
    document[-1]["min_distinct_approvers"] = count
    return Policy.model_validate({"rules": document})


def test_the_finance_director_is_not_approved_by_her_own_team() -> None:
    chain = route(policy(FINANCE), "cfo", "300", payment_type="invoice")

    assert acting(chain) == ["ceo"]
    assert chain.steps[0].reason == (
        "anyone with the role 'finance' (2 people); Ada reports to the requester Felix, so it goes up to "
        "Felix; Felix is the requester, so it goes up to Clara."
    )
    assert acting(route(policy(FINANCE).model_copy(update={"controls": OFF}), "cfo", "300")) == ["ada"]


def test_a_pool_takes_a_member_outside_the_requesters_reporting_line_first() -> None:
    company = org({"who": "ben", "manager": "ada"})  # Ben reports to Ada

    assert acting(route(policy(FINANCE), "ada", "300", company=company)) == ["cfo"]


def test_a_delegates_signature_does_not_cover_the_absent_persons_other_requirement() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "rhea"})
    chain = route(policy(MANAGER, COST_CENTER), "dev", "300", company=company)

    assert acting(chain) == ["rhea>lead", "cto"]  # Lee also owns CC-310, but Rhea signed, not Lee
    assert chain.steps[0].covers == ()
    assert (
        "Lee's step 1 is signed by their delegate Rhea, which covers only that step, so it goes up to "
        "Tara" in chain.steps[1].reason
    )
    off = policy(MANAGER, COST_CENTER).model_copy(update={"controls": OFF})
    assert acting(route(off, "dev", "300", company=company)) == ["rhea>lead"]


def test_a_delegate_named_by_a_later_step_does_not_sign_twice_nor_cover_it() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "ivan"})
    chain = route(policy(MANAGER, ("IT", {}, ["role:it_lead"])), "dev", "300", company=company)

    assert acting(chain) == ["ivan>lead", "ceo"]
    assert "Ivan already signs at step 1 for Lee, which covers only that step, so it goes up to Clara" in (
        chain.steps[1].reason
    )


def test_min_distinct_approvers_uncovers_a_step_and_takes_the_superior() -> None:
    rules = with_signers(2, MANAGER, ("Travel", {"category_in": ["TRAVEL"]}, ["cost_center_owner"]))
    chain = route(rules, "rita", "300", category="TRAVEL")

    assert acting(chain) == ["sam", "ceo"]
    assert chain.steps[1].reason == (
        "Sam owns cost center CC-400; Sam already signs at step 1, and rule 'Travel' asks for at least 2 "
        "different signers, so it goes up to Clara."
    )
    assert acting(route(policy(MANAGER, COST_CENTER), "rita", "300")) == ["sam"]  # covered without it


def test_min_distinct_approvers_nobody_left_is_no_eligible_approver() -> None:
    rules = with_signers(2, MANAGER, ("Second level", {}, ["manager_of:team_manager"]))
    chain = route(rules, "ivan", "300")

    assert acting(chain) == ["ceo", None]
    assert chain.steps[1].reason == (
        "Clara (team_manager) has nobody above them, and Clara already signs at step 1, and rule "
        "'Second level' asks for at least 2 different signers."
    )


def test_a_chain_whose_requirements_cannot_bring_enough_signers_says_so() -> None:
    chain = route(with_signers(3, MANAGER), "rita", "300")

    assert acting(chain) == ["sam", None]
    assert (chain.steps[1].requirement, chain.steps[1].reason) == (
        "min_distinct_approvers",
        "rule 'Manager signs everything' asks for at least 3 different signers, but the requirements that "
        "apply bring only 1.",
    )
    assert not chain.complete


def test_enough_signers_leave_the_chain_as_it_is() -> None:
    rules = with_signers(1, MANAGER, COST_CENTER)

    assert acting(route(rules, "rita", "300")) == ["sam"]

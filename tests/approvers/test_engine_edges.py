"""The edge cases of resolution: requester, limits, absence and delegation, duplicates, the top."""

from __future__ import annotations

from server.kit.approval_policy import Controls
from tests.approvers.orgs import AWAY, LARGE, MANAGER, Rule, acting, alternates, at, org, policy, route

FINANCE: Rule = ("Finance", {}, ["finance_team"])
CFO: Rule = ("CFO", {}, ["role:cfo"])


def test_the_ceo_as_requester_has_nobody_to_approve_their_team_step() -> None:
    chain = route(policy(MANAGER, FINANCE), "ceo", "300")

    assert acting(chain) == [None, None]  # everyone in finance reports to Clara: nobody from below
    assert not chain.complete
    assert chain.steps[0].reason == (
        "Clara manages Executive; but Clara is the requester, and nobody is above them."
    )
    assert chain.steps[1].reason.startswith(
        "anyone with the role 'finance' (2 people); but Ada reports to the requester Clara, so it goes up "
        "to Felix; Felix reports to the requester Clara, so it goes up to Clara; Clara is the requester, "
        "and nobody is above them"
    )


def test_without_the_control_the_ceos_own_report_approves() -> None:
    rules = policy(MANAGER, FINANCE).model_copy(update={"controls": Controls(no_approval_from_below=False)})

    assert acting(route(rules, "ceo", "300")) == [None, "ada"]


def test_a_manager_asking_for_their_own_team_goes_to_their_manager() -> None:
    chain = route(policy(MANAGER), "lead", "300")

    assert acting(chain) == ["cto"]
    assert chain.steps[0].reason == "Lee manages Platform; Lee is the requester, so it goes up to Tara."


def test_a_finance_member_asking_takes_another_finance_member() -> None:
    chain = route(policy(FINANCE), "ada", "300")

    assert acting(chain) == ["ben"]
    assert alternates(chain) == []


def test_the_only_finance_member_asking_goes_up_to_their_manager() -> None:
    company = org({"who": "ben", "active": False})

    assert acting(route(policy(FINANCE), "ada", "300", company=company)) == ["cfo"]


def test_a_limit_below_the_amount_escalates_up_the_hierarchy() -> None:
    chain = route(policy(MANAGER), "dev", "8000")

    assert acting(chain) == ["cto"]
    assert chain.steps[0].reason == (
        "Lee manages Platform; Lee's approval limit (5,000.00 EUR) is below 8,000.00 EUR, "
        "so it goes up to Tara."
    )


def test_second_level_is_above_whoever_took_the_first_step() -> None:
    assert acting(route(policy(MANAGER, LARGE), "dev", "8000")) == ["cto", "ceo", "ada"]


def test_a_limit_equal_to_the_amount_is_enough() -> None:
    assert acting(route(policy(MANAGER), "dev", "5000")) == ["lead"]


def test_no_approval_limit_means_no_authority() -> None:
    company = org({"who": "lead", "limit_minor": None})

    assert acting(route(policy(MANAGER), "dev", "10", company=company)) == ["cto"]


def test_a_company_without_any_limits_does_not_use_them() -> None:
    company = org(
        *(
            {"who": who, "limit_minor": None}
            for who in ("ceo", "cfo", "ada", "ben", "cto", "lead", "ivan", "sam", "olaf")
        )
    )

    assert acting(route(policy(MANAGER), "dev", "900000", company=company)) == ["lead"]


def test_finance_above_its_limits_goes_to_the_cfo_who_then_covers_the_cfo_step() -> None:
    chain = route(policy(FINANCE, CFO), "dev", "60000")

    assert acting(chain) == ["cfo"]
    assert [(c.rule, c.requirement) for c in chain.steps[0].covers] == [("CFO", "role:cfo")]


def test_an_inactive_team_manager_is_skipped() -> None:
    company = org({"who": "lead", "active": False})

    assert acting(route(policy(MANAGER), "dev", "300", company=company)) == ["cto"]


def test_an_absent_approver_has_their_delegate_act_for_them() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "rhea"})
    chain = route(policy(MANAGER), "dev", "300", company=company)

    assert acting(chain) == ["rhea>lead"]
    assert chain.steps[0].reason == (
        "Lee manages Platform; Rhea acts for Lee (out of office 2026-07-13–2026-07-31)."
    )


def test_a_delegate_acts_with_the_authority_of_the_person_they_stand_in_for() -> None:
    company = org({"who": "cto", **AWAY, "delegate": "rhea"})  # Rhea has no limit of her own

    assert acting(route(policy(MANAGER), "dev", "8000", company=company)) == ["rhea>cto"]


def test_a_delegate_who_is_away_too_passes_it_on() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "rhea"}, {"who": "rhea", **AWAY, "delegate": "ivan"})
    chain = route(policy(MANAGER), "dev", "300", company=company)

    assert acting(chain) == ["ivan>lead"]
    assert "Ivan acts for Lee (out of office 2026-07-13–2026-07-31), passed on by Rhea, away too" in (
        chain.steps[0].reason
    )


def test_a_delegate_who_is_the_requester_sends_the_step_up() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "dev"})
    chain = route(policy(MANAGER), "dev", "300", company=company)

    assert acting(chain) == ["cto"]
    assert chain.steps[0].reason == (
        "Lee manages Platform; Lee is out of office 2026-07-13–2026-07-31 and their delegate Dev is the "
        "requester, so it goes up to Tara."
    )


def test_a_delegation_loop_sends_the_step_up() -> None:
    company = org({"who": "lead", **AWAY, "delegate": "rhea"}, {"who": "rhea", **AWAY, "delegate": "lead"})
    chain = route(policy(MANAGER), "dev", "300", company=company)

    assert acting(chain) == ["cto"]
    assert "the delegation loops back to Lee" in chain.steps[0].reason


def test_an_absent_approver_without_delegate_is_replaced_by_their_superior() -> None:
    company = org({"who": "lead", **AWAY})
    chain = route(policy(MANAGER), "dev", "300", company=company)

    assert acting(chain) == ["cto"]
    assert (
        "Lee is out of office 2026-07-13–2026-07-31 and has no delegate, so it goes up to Tara"
        in chain.steps[0].reason
    )


def test_absence_is_judged_on_the_day_asked() -> None:
    company = org({"who": "lead", "away_from": AWAY["away_until"], "away_until": AWAY["away_until"]})

    assert acting(route(policy(MANAGER), "dev", "300", company=company)) == ["lead"]


def test_a_delegate_already_in_the_chain_cannot_act_again() -> None:
    company = org({"who": "cto", **AWAY, "delegate": "lead"})
    rules = policy(MANAGER, ("Second level", {}, ["manager_of:team_manager"]))

    assert acting(route(rules, "dev", "300", company=company)) == ["lead", "ceo"]


def test_an_absent_pool_member_comes_after_present_ones() -> None:
    company = org({"who": "ada", **AWAY, "delegate": "rhea"})
    chain = route(policy(FINANCE), "dev", "300", company=company)

    assert acting(chain) == ["ben"]
    assert alternates(chain) == ["rhea>ada"]


def test_the_same_requirement_from_two_rules_is_one_step() -> None:
    chain = route(policy(CFO, ("Also CFO", {}, ["role:cfo"])), "dev", "300")

    assert acting(chain) == ["cfo"]
    [covered] = chain.steps[0].covers
    assert (covered.rule, covered.requirement, covered.reason) == (
        "Also CFO",
        "role:cfo",
        "the same requirement as step 1.",
    )


def test_a_requirement_falling_on_someone_already_in_the_chain_is_covered_by_them() -> None:
    chain = route(policy(MANAGER, ("Platform owner", {}, ["cost_center_owner"])), "dev", "300")

    assert acting(chain) == ["lead"]
    assert chain.steps[0].covers[0].reason == "Lee owns cost center CC-310; Lee already approves at step 1."


def test_a_pool_takes_someone_not_yet_in_the_chain() -> None:
    rules = policy(("Ada first", {}, ["employee:ada@x.io"]), FINANCE)

    assert acting(route(rules, "dev", "300")) == ["ada", "ben"]


def test_a_preference_orders_the_pool() -> None:
    def prefer(email: str) -> tuple[float, ...]:
        return (0.0,) if email == at("ben") else (1.0,)

    chain = route(policy(FINANCE), "dev", "300", prefer=prefer)

    assert acting(chain) == ["ben"]
    assert alternates(chain) == ["ada"]


def test_a_large_request_by_a_director_climbs_to_the_top_once() -> None:
    rules = policy(MANAGER, LARGE, ("Over 25,000", {"amount_over": "25000"}, ["role:cfo"]))
    chain = route(rules, "cto", "30000")

    assert acting(chain) == ["ceo", "ada", "cfo"]
    assert [c.requirement for c in chain.steps[0].covers] == ["manager_of:team_manager"]

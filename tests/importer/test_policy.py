"""The approval policy model: steps parsed into types, clear validation, a JSON round trip."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from server.db.models import PaymentType
from server.kit.approval_policy import (
    Conditions,
    Controls,
    CostCenterOwner,
    EmployeeStep,
    FinanceTeam,
    ManagerOf,
    Policy,
    RoleStep,
    Rule,
    TeamManager,
    nested_steps,
    parse_step,
)

DOCUMENT: dict[str, Any] = {
    "rules": [
        {"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]},
        {
            "name": "Large spend",
            "when": {"amount_over": "5000", "payment_type_in": ["card", "invoice"]},
            "steps": ["manager_of:manager_of:team_manager", "finance_team", "cost_center_owner"],
        },
        {
            "name": "Software",
            "when": {
                "category_in": ["SOFTWARE"],
                "amount_at_least": "249.99",
                "requester_role_in": ["it_lead"],
            },
            "steps": ["role:it_lead", "employee:Ana@Example.com"],
        },
    ]
}


def test_parses_steps_into_types() -> None:
    policy = Policy.model_validate(DOCUMENT)

    assert policy == Policy(
        rules=(
            Rule(name="Manager signs everything", steps=(TeamManager(),)),
            Rule(
                name="Large spend",
                when=Conditions(
                    amount_over=Decimal(5000), payment_type_in=(PaymentType.CARD, PaymentType.INVOICE)
                ),
                steps=(ManagerOf(of=ManagerOf(of=TeamManager())), FinanceTeam(), CostCenterOwner()),
            ),
            Rule(
                name="Software",
                when=Conditions(
                    category_in=("SOFTWARE",),
                    amount_at_least=Decimal("249.99"),
                    requester_role_in=("it_lead",),
                ),
                steps=(RoleStep(role="it_lead"), EmployeeStep(email="ana@example.com")),
            ),
        )
    )


def test_dumps_back_to_the_json_form() -> None:
    dumped = Policy.model_validate(DOCUMENT).model_dump(mode="json", exclude_none=True)

    assert dumped["rules"][1] == {
        "name": "Large spend",
        "when": {"amount_over": "5000", "payment_type_in": ["card", "invoice"]},
        "steps": ["manager_of:manager_of:team_manager", "finance_team", "cost_center_owner"],
    }
    assert dumped["rules"][2]["steps"] == ["role:it_lead", "employee:ana@example.com"]
    assert Policy.model_validate(dumped) == Policy.model_validate(DOCUMENT)


def test_nested_steps() -> None:
    step = parse_step("manager_of:role:cfo")

    assert nested_steps(step) == [ManagerOf(of=RoleStep(role="cfo")), RoleStep(role="cfo")]
    assert str(step) == "manager_of:role:cfo"


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        ({}, [(("rules",), "Field required")]),
        ({"rules": [], "extra": 1}, [(("extra",), "Extra inputs are not permitted")]),
        (
            {"rules": [{"name": "A", "when": {"amount_over": 5000.5}, "steps": ["team_manager"]}]},
            [
                (
                    ("rules", 0, "when", "amount_over"),
                    'must be a non-negative decimal string such as "5000" or "249.99"',
                )
            ],
        ),
        (
            {"rules": [{"name": "A", "when": {"team_in": []}, "steps": ["manager_of:"]}]},
            [
                (
                    ("rules", 0, "when", "team_in"),
                    "must list at least one value (leave the key out to not filter)",
                ),
                (
                    ("rules", 0, "steps", 0),
                    "unknown step '' in 'manager_of:'; expected team_manager, manager_of:<step>,"
                    " cost_center_owner, finance_team, role:<role> or employee:<email>",
                ),
            ],
        ),
        (
            {"rules": [{"name": "A", "steps": ["team_manager"]}, {"name": "A", "steps": ["finance_team"]}]},
            [(("rules",), "rule name 'A' is used by rules[0] and rules[1]")],
        ),
    ],
)
def test_validation_errors(document: dict[str, Any], errors: list[tuple[tuple[Any, ...], str]]) -> None:
    with pytest.raises(ValidationError) as failed:
        Policy.model_validate(document)

    assert [(error["loc"], error["msg"]) for error in failed.value.errors()] == errors


def test_is_immutable() -> None:
    policy = Policy.model_validate(DOCUMENT)

    with pytest.raises(ValidationError):
        policy.rules[0].name = "other"  # type: ignore[misc]


def test_controls_are_on_unless_turned_off_and_are_kept_in_the_document() -> None:
    policy = Policy.model_validate(DOCUMENT)
    relaxed = Policy.model_validate({**DOCUMENT, "controls": {"no_approval_from_below": False}})

    assert policy.controls == Controls(no_approval_from_below=True, delegate_covers_own_step_only=True)
    assert relaxed.controls == Controls(no_approval_from_below=False, delegate_covers_own_step_only=True)
    assert relaxed.model_dump(mode="json", exclude_none=True)["controls"] == {
        "no_approval_from_below": False,
        "delegate_covers_own_step_only": True,
    }


@pytest.mark.parametrize("count", [0, -1, True, "3", 2.5])
def test_min_distinct_approvers_is_a_whole_number_from_one(count: Any) -> None:
    rule = {"name": "A", "steps": ["team_manager"], "min_distinct_approvers": count}

    with pytest.raises(ValidationError) as failed:
        Policy.model_validate({"rules": [rule]})

    assert [(e["loc"], e["msg"]) for e in failed.value.errors()] == [
        (("rules", 0, "min_distinct_approvers"), "must be a whole number of at least 1, such as 3")
    ]

"""suggest_approver through a real MCP client, on Northwind (tests/approvers/fixtures/northwind),
in both protocol eras and on both databases: the chain a controller would require for each request.

Today is 2026-07-20: Tara (director of Engineering) is away until 2026-07-24 and Lee stands in.
Ben decided Platform's last large requests, Ada Sales' (and a Sales request waits on her now).
"""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs ship with it; it comes with mcp
import pytest
from mcp import Client

from tests.world import call_error, call_ok

pytestmark = pytest.mark.anyio

DOMAIN = "@nw.test"


def _chain(answer: dict[str, Any]) -> list[str | None]:
    """Who acts at each step, by e-mail local part; 'lead>cto': Lee acting for Tara; None: nobody."""
    acting: list[str | None] = []
    for step in answer["steps"]:
        approver = step["approver"]
        if approver is None:
            acting.append(None)
            continue
        behalf = approver["on_behalf_of"]
        name = approver["email"].removesuffix(DOMAIN)
        acting.append(name if behalf is None else f"{name}>{behalf['email'].removesuffix(DOMAIN)}")
    return acting


@pytest.mark.parametrize(
    ("request_details", "chain"),
    [
        ({"requester": "dev@nw.test", "amount": "300"}, ["lead"]),
        ({"requester": "Dev Eloper", "amount": "3000", "category": "Software"}, ["lead", "it"]),
        (
            {"requester": "dev@nw.test", "amount": "8000", "category": "HARDWARE"},
            ["lead>cto", "ceo", "fin.b"],
        ),
        ({"requester": "res@nw.test", "amount": "300"}, ["lead>cto"]),
        ({"requester": "lead@nw.test", "amount": "300"}, ["ceo"]),
        ({"requester": "ceo@nw.test", "amount": "300"}, [None]),
        ({"requester": "fin.a@nw.test", "amount": "8000"}, ["cfo", "ceo", "fin.b"]),
        ({"requester": "rep@nw.test", "amount": "2500", "category": "TRAVEL-AIR"}, ["sales"]),
        ({"requester": "rep@nw.test", "amount": "30000"}, ["ceo", "fin.a", "cfo"]),
        ({"requester": "rep@nw.test", "amount": "5464.48", "currency": "USD"}, ["sales"]),
        ({"requester": "rep@nw.test", "amount": "5464.49", "currency": "usd"}, ["ceo", "fin.a"]),
        ({"requester": "rep@nw.test", "amount": "1000", "payment_type": "invoice"}, ["sales", "fin.a"]),
        ({"requester": "rep@nw.test", "amount": "300", "team": "Platform"}, ["lead"]),
    ],
)
async def test_the_chain_a_controller_requires(
    northwind: Client, request_details: dict[str, str], chain: list[str | None]
) -> None:
    answer = await call_ok(northwind, "suggest_approver", request_details)

    assert _chain(answer) == chain
    assert answer["complete"] == (None not in chain)


async def test_a_full_answer(northwind: Client) -> None:
    answer = await call_ok(
        northwind,
        "suggest_approver",
        {"requester": "Dev Eloper", "amount": "8000", "category": "HARDWARE", "description": "Test rig"},
    )

    assert answer["request"] == {
        "id": None,
        "requester": {"email": "dev@nw.test", "name": "Dev Eloper"},
        "team": "Platform",
        "category": "HARDWARE",
        "amount": {"amount": "8000.00", "currency": "EUR"},
        "amount_company": {"amount": "8000.00", "currency": "EUR"},
        "exchange_rate": None,
        "payment_type": "card",
        "description": "Test rig",
        "status": None,
        "decisions": [],
    }
    assert (answer["policy_version"], answer["as_of"]) == (1, "2026-07-20")
    assert answer["rules_applied"] == ["Manager signs everything", "Over 5,000 EUR: second level and finance"]
    first, second, third = answer["steps"]
    assert first["reason"] == (
        "Lee Lead manages Platform; Lee Lead's approval limit (5,000.00 EUR) is below 8,000.00 EUR, so it "
        "goes up to Tara Tech; Lee Lead acts for Tara Tech (out of office 2026-07-18–2026-07-24)."
    )
    assert (second["requirement"], second["reason"]) == (
        "manager_of:team_manager",
        "Clara Chief is above Tara Tech (team_manager).",
    )
    assert third["approver"] == {
        "email": "fin.b@nw.test",
        "name": "Ben Ledger",
        "role": "finance",
        "team": "Finance",
        "on_behalf_of": None,
        "approvals_for_team": 2,
        "approvals_for_category": 2,
        "median_decision_hours": None,
        "pending_requests": 0,
    }
    assert [alternate["email"] for alternate in third["alternates"]] == ["fin.a@nw.test"]
    assert third["alternates"][0]["pending_requests"] == 1
    assert third["reason"] == (
        "anyone with the role 'finance' (2 people). Ben Ledger comes before Ada Ledger: approval history "
        "decided: Ben Ledger scores 8, Ada Ledger 0 (2 points per decision in the last year on Platform's "
        "requests, 1 per decision on Engineering's and on HARDWARE's)."
    )
    assert answer["expected_hours_to_full_approval"] == sum(
        step["expected_hours"] for step in answer["steps"]
    )


async def test_a_covered_requirement_is_listed_under_the_step_that_covers_it(northwind: Client) -> None:
    answer = await call_ok(
        northwind,
        "suggest_approver",
        {"requester": "rep@nw.test", "amount": "2500", "category": "TRAVEL-AIR"},
    )

    assert answer["steps"][0]["also_satisfies"] == [
        {
            "rule": "Travel over 2,000 EUR: cost center owner",
            "requirement": "cost_center_owner",
            "reason": "Sam Seller owns cost center CC-400; Sam Seller already approves at step 1.",
        }
    ]


async def test_no_eligible_approver_says_why(northwind: Client) -> None:
    result = await northwind.call_tool("suggest_approver", {"requester": "ceo@nw.test", "amount": "300"})

    assert not result.is_error
    assert result.structured_content is not None
    [step] = result.structured_content["steps"]
    assert (step["status"], step["approver"], step["alternates"]) == ("no_eligible_approver", None, [])
    assert (
        step["reason"]
        == "Clara Chief manages Executive; but Clara Chief is the requester, and nobody is above them."
    )
    assert result.content[0].text == (  # type: ignore[union-attr]
        "1 step(s) for 300.00 EUR under policy v1: 1. no eligible approver (team_manager). Incomplete: a step"
        " has no eligible approver (see its reason)."
    )


async def test_a_foreign_currency_is_converted_at_the_rate_in_force(northwind: Client) -> None:
    answer = await call_ok(
        northwind, "suggest_approver", {"requester": "rep@nw.test", "amount": "5464.49", "currency": "USD"}
    )

    assert (
        answer["request"]["amount"],
        answer["request"]["amount_company"],
        answer["request"]["exchange_rate"],
    ) == (
        {"amount": "5464.49", "currency": "USD"},
        {"amount": "5000.01", "currency": "EUR"},
        "0.9150",
    )


async def test_an_existing_request_by_id(northwind: Client) -> None:
    answer = await call_ok(northwind, "suggest_approver", {"request_id": "R-4"})

    assert answer["request"]["id"] == "R-4"
    assert answer["request"]["status"] == "pending"
    assert [(d["step"], d["approver"]["email"], d["decision"]) for d in answer["request"]["decisions"]] == [
        (1, "ceo@nw.test", "approved")
    ]
    assert _chain(answer) == ["ceo", "fin.a"]
    assert answer["steps"][1]["approver"]["pending_requests"] == 0  # R-4 itself does not count


async def test_no_approval_needed(northwind: Client) -> None:
    answer = await call_ok(
        northwind, "suggest_approver", {"requester": "rep@nw.test", "amount": "10", "team": "Sales"}
    )

    assert _chain(answer) == ["sales"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"request_id": "R-4", "requester": "dev@nw.test"},
            "pass either request_id or the request's details",
        ),
        (
            {"requester": "dev@nw.test"},
            "pass request_id (an existing approval request, e.g. APR-00042), or at least",
        ),
        ({"request_id": "r-4"}, "no approval request with id 'r-4'; did you mean 'R-4'?"),
        ({"request_id": "APR-1"}, "no approval request with id 'APR-1'; ids look like APR-00042"),
        (
            {"requester": "Ledger", "amount": "10"},
            "'Ledger' matches 2 employees: Ada Ledger <fin.a@nw.test>, Ben",
        ),
        ({"requester": "dev@nw.test", "amount": "10", "currency": "CHF"}, "(known: GBP, USD)"),
        (
            {"requester": "dev@nw.test", "amount": "10.001"},
            "amount: 10.001 has more decimals than EUR allows",
        ),
        ({"requester": "dev@nw.test", "amount": "-5"}, "amount must be positive, got -5"),
        ({"requester": "dev@nw.test", "amount": "10", "team": "Mktg"}, "no team named 'Mktg'"),
        ({"requester": "dev@nw.test", "amount": "10", "currency": "EURO"}, "unknown ISO 4217 currency code"),
    ],
)
async def test_arguments_it_cannot_use(northwind: Client, arguments: dict[str, str], message: str) -> None:
    assert message in await call_error(northwind, "suggest_approver", arguments)


async def test_results_match_the_advertised_schema(northwind: Client) -> None:
    [tool] = [tool for tool in (await northwind.list_tools()).tools if tool.name == "suggest_approver"]

    for arguments in (
        {"request_id": "R-4"},
        {"requester": "ceo@nw.test", "amount": "300"},
        {"requester": "dev@nw.test", "amount": "8000", "currency": "GBP"},
    ):
        result = await northwind.call_tool("suggest_approver", arguments)
        jsonschema.validate(result.structured_content, tool.output_schema)

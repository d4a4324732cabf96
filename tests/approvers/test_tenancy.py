"""suggest_approver only ever sees the caller's company (tests/world.py: Acme and Globex share ids)."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.world import call_error, call_ok

pytestmark = pytest.mark.anyio


async def test_a_request_id_of_another_company_is_not_found(acme: Client, globex: Client) -> None:
    theirs = await call_ok(globex, "suggest_approver", {"request_id": "APR-0002"})

    assert theirs["request"]["requester"]["email"] == "hank@globex.example"
    assert "no approval request with id 'APR-0002'" in await call_error(
        acme, "suggest_approver", {"request_id": "APR-0002"}
    )


async def test_a_shared_request_id_is_each_companys_own(acme: Client, globex: Client) -> None:
    mine = await call_ok(acme, "suggest_approver", {"request_id": "APR-0001"})
    theirs = await call_ok(globex, "suggest_approver", {"request_id": "APR-0001"})

    assert (mine["request"]["requester"]["name"], mine["request"]["amount"]) == (
        "Ann Lee",
        {"amount": "380.00", "currency": "EUR"},
    )
    assert [d["approver"]["email"] for d in mine["request"]["decisions"]] == [
        "dan@acme.example",
        "eve@acme.example",
    ]
    assert (theirs["request"]["requester"]["name"], theirs["request"]["amount"]) == (
        "Hank Scorpio",
        {"amount": "99999.00", "currency": "USD"},
    )


async def test_people_of_another_company_are_not_found(acme: Client) -> None:
    message = await call_error(acme, "suggest_approver", {"requester": "Hank Scorpio", "amount": "10"})

    assert "no employee with e-mail or name 'Hank Scorpio'" in message


async def test_each_company_uses_its_own_policy(acme: Client, globex: Client) -> None:
    mine = await call_ok(
        acme, "suggest_approver", {"requester": "Ann Lee", "amount": "6000", "currency": "USD"}
    )
    theirs = await call_ok(globex, "suggest_approver", {"requester": "Ann Lee", "amount": "6000"})

    assert (mine["policy_version"], mine["rules_applied"]) == (2, ["Large spend"])
    assert mine["request"]["amount_company"] == {"amount": "5400.00", "currency": "EUR"}
    [step] = mine["steps"]
    assert (step["status"], step["reason"]) == (
        "no_eligible_approver",
        "nobody has the role 'finance' and no team is named Finance.",
    )
    assert (theirs["policy_version"], theirs["rules_applied"]) == (7, ["Manager signs everything"])
    assert [step["approver"] for step in theirs["steps"]] == [None]  # Ann manages Marketing, and asks


async def test_each_company_uses_its_own_exchange_rates(globex: Client) -> None:
    message = await call_error(
        globex, "suggest_approver", {"requester": "Ann Lee", "amount": "10", "currency": "EUR"}
    )

    assert "no exchange rate from EUR to USD in force on 2026-07-20" in message
    assert "(known: none)" in message

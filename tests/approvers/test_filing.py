"""submit_spend_request through a real MCP client on Northwind, on both databases: a person files in
their own name with the chain suggest_approver computes; a service without a user files on the
requester's behalf; an idempotency key files once; a dry run, a declined confirmation and every refusal
write nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.approvers.acting import BIG, approver, as_user, file, written
from tests.categorize.test_tools import answer
from tests.world import call_error, call_ok, raw

pytestmark = pytest.mark.anyio

ERROR = "Error executing tool submit_spend_request: "
FILED = ("pending", "dev@nw.test", False, None)  # status, filed_by, filed_on_behalf, idempotency_key


def decoded(stored: Any) -> dict[str, Any]:
    # PostgreSQL's driver decodes JSON; SQLite hands back the text.
    return dict(json.loads(stored) if isinstance(stored, str) else stored)


async def test_a_person_files_in_their_own_name_with_the_chain_suggest_approver_gives(nw: str) -> None:
    async with as_user(nw, "dev@nw.test") as client:
        shown = await call_ok(client, "suggest_approver", {"requester": "dev@nw.test", **BIG})
        filed = await call_ok(client, "submit_spend_request", BIG)
        second = await call_ok(client, "submit_spend_request", {"amount": "300"})
        stored = await call_ok(client, "suggest_approver", {"request_id": filed["request_id"]})

    assert (filed["request_id"], second["request_id"]) == ("APR-00001", "APR-00002")
    assert (filed["outcome"], filed["filed"], filed["dry_run"], filed["status"]) == (
        "filed",
        True,
        False,
        "pending",
    )
    assert (filed["filed_by"], filed["filed_on_behalf"]) == ("dev@nw.test", False)
    assert [approver(step) for step in filed["route"]["steps"]] == [
        "lead@nw.test>cto@nw.test",
        "ceo@nw.test",
        "fin.b@nw.test",
    ]
    assert filed["route"]["steps"] == shown["steps"]
    assert filed["waiting_on"] == shown["steps"][0]
    assert filed["route"]["request"] == {**shown["request"], "id": "APR-00001", "status": "pending"}
    assert filed["message"] == (
        "Filed APR-00001: 8,000.00 EUR for Dev Eloper, 3 approval step(s); step 1 waits on Lee Lead."
    )
    # The same people; how many requests wait on each has grown by the two filed.
    assert [approver(step) for step in stored["steps"]] == [approver(step) for step in shown["steps"]]
    assert (stored["request"]["id"], stored["request"]["status"], stored["request"]["decisions"]) == (
        "APR-00001",
        "pending",
        [],
    )
    assert await raw(
        nw,
        "SELECT r.ref, e.email, t.name, c.code, r.amount_minor, r.currency, r.amount_company_minor, "
        "r.payment_type, r.description, r.status, r.filed_by, r.filed_on_behalf, r.idempotency_key "
        "FROM approval_requests r JOIN employees e ON e.id = r.requester_id JOIN teams t ON t.id = r.team_id "
        "LEFT JOIN categories c ON c.id = r.category_id WHERE r.ref LIKE 'APR-%' ORDER BY r.ref",
    ) == [
        (
            "APR-00001",
            "dev@nw.test",
            "Platform",
            "HARDWARE",
            800000,
            "EUR",
            800000,
            "card",
            "Test rig",
            *FILED,
        ),
        ("APR-00002", "dev@nw.test", "Platform", None, 30000, "EUR", 30000, "card", None, *FILED),
    ]
    calls = await raw(nw, "SELECT call_id FROM audit_events WHERE name = 'submit_spend_request' ORDER BY id")
    changes = await raw(
        nw,
        "SELECT call_id, actor, details FROM data_changes WHERE action = 'submit_spend_request' ORDER BY id",
    )
    assert [(call_id, actor) for call_id, actor, _ in changes] == [
        (calls[0][0], "dev@nw.test"),
        (calls[1][0], "dev@nw.test"),
    ]
    assert decoded(changes[0][2]) == {
        "table": "approval_requests",
        "key": "APR-00001",
        "before": None,
        "after": {
            "status": "pending",
            "requester": "dev@nw.test",
            "team": "Platform",
            "category": "HARDWARE",
            "amount_minor": 800000,
            "currency": "EUR",
            "payment_type": "card",
            "filed_by": "dev@nw.test",
            "filed_on_behalf": False,
        },
    }


async def test_a_request_in_another_currency_keeps_its_amount_and_routes_on_the_converted_one(
    nw: str,
) -> None:
    filed = await file(nw, "rep@nw.test", amount="5464.49", currency="usd")

    assert [approver(step) for step in filed["route"]["steps"]] == ["ceo@nw.test", "fin.a@nw.test"]
    assert await raw(
        nw,
        "SELECT amount_minor, currency, amount_company_minor FROM approval_requests WHERE ref = 'APR-00001'",
    ) == [(546449, "USD", 500001)]


async def test_a_service_without_a_user_files_on_the_requesters_behalf(nw: str) -> None:
    async with as_user(nw, None) as client:
        filed = await call_ok(client, "submit_spend_request", {"requester": "Rita Rep", "amount": "300"})
        unnamed = await call_error(client, "submit_spend_request", {"amount": "300"})

    assert (filed["request_id"], filed["filed_by"], filed["filed_on_behalf"]) == ("APR-00001", "local", True)
    assert filed["route"]["request"]["requester"] == {"email": "rep@nw.test", "name": "Rita Rep"}
    assert approver(filed["waiting_on"]) == "sales@nw.test"
    assert unnamed == (
        ERROR + "this token names no user, so pass `requester` (e-mail or name): the request is filed on "
        "their behalf by local"
    )
    assert await raw(
        nw, "SELECT filed_by, filed_on_behalf FROM approval_requests WHERE ref = 'APR-00001'"
    ) == [("local", True)]


async def test_an_idempotency_key_files_once(nw: str) -> None:
    once = {"amount": "300", "idempotency_key": "laptop-dock-7"}
    async with as_user(nw, "dev@nw.test") as client:
        first = await call_ok(client, "submit_spend_request", once)
        again = await call_ok(
            client, "submit_spend_request", {**once, "amount": "300.00", "description": None}
        )
        other = await call_error(client, "submit_spend_request", {**once, "amount": "301"})
    async with as_user(nw, "rep@nw.test") as client:
        stranger = await call_error(client, "submit_spend_request", once)

    assert (first["outcome"], first["request_id"]) == ("filed", "APR-00001")
    assert (again["outcome"], again["request_id"], again["filed"], again["status"], again["waiting_on"]) == (
        "already_filed",
        "APR-00001",
        False,
        "pending",
        None,
    )
    assert again["message"] == (
        "APR-00001 was filed before with this idempotency key (300.00 EUR for Dev Eloper); it is pending. "
        "Nothing new filed."
    )
    refused = (
        ERROR + "the idempotency key 'laptop-dock-7' already filed APR-00001, a different request (or filed "
        "by someone else): use a new key for a new request"
    )
    assert (other, stranger) == (refused, refused)
    assert await raw(nw, "SELECT ref, idempotency_key FROM approval_requests WHERE ref LIKE 'APR-%'") == [
        ("APR-00001", "laptop-dock-7")
    ]


async def test_a_dry_run_and_a_declined_confirmation_file_nothing(nw: str) -> None:
    before = await written(nw)
    asked: list[str] = []
    async with as_user(nw, "dev@nw.test") as client:
        dry = await call_ok(client, "submit_spend_request", {**BIG, "dry_run": True})
    declined = []
    for mode in ("auto", "legacy"):
        async with as_user(
            nw, "dev@nw.test", mode=mode, elicitation_callback=await answer(False, asked)
        ) as client:
            declined.append(await call_ok(client, "submit_spend_request", BIG))
    nothing = await written(nw)
    async with as_user(nw, "dev@nw.test", elicitation_callback=await answer(True, asked)) as client:
        accepted = await call_ok(client, "submit_spend_request", BIG)

    assert nothing == before
    assert (dry["outcome"], dry["request_id"], dry["filed"], dry["dry_run"], dry["status"]) == (
        "would_file",
        None,
        False,
        True,
        None,
    )
    assert approver(dry["waiting_on"]) == "lead@nw.test>cto@nw.test"
    assert dry["message"] == (
        "Dry run: 8,000.00 EUR for Dev Eloper would be filed with 3 approval step(s); step 1 waits on Lee "
        "Lead. Nothing was written."
    )
    assert [(d["outcome"], d["request_id"], d["filed"]) for d in declined] == [("declined", None, False)] * 2
    assert asked == ["File a spend request of 8000 for approval?"] * 3
    assert (accepted["outcome"], accepted["request_id"]) == ("filed", "APR-00001")


async def test_refusals_write_nothing(nw: str) -> None:
    before = await written(nw)
    async with as_user(nw, "dev@nw.test") as client:
        for_someone_else = await call_error(
            client, "submit_spend_request", {"requester": "rep@nw.test", "amount": "3"}
        )
        own_name = await call_ok(
            client, "submit_spend_request", {"requester": "Dev Eloper", "amount": "3", "dry_run": True}
        )
        bad_amount = await call_error(client, "submit_spend_request", {"amount": "-5"})
        no_team = await call_error(client, "submit_spend_request", {"amount": "5", "team": "Nowhere"})
    async with as_user(nw, "ceo@nw.test") as client:
        nobody_above = await call_error(client, "submit_spend_request", {"amount": "300"})
    async with as_user(nw, "ghost@nw.test") as client:
        stranger = await call_error(client, "submit_spend_request", {"amount": "300"})
    async with as_user(nw, "old@nw.test") as client:
        gone = await call_error(client, "submit_spend_request", {"amount": "300"})

    assert await written(nw) == before
    assert for_someone_else == (
        ERROR + "Dev Eloper files spend requests in their own name, not for Rita Rep: leave out `requester`, "
        "or let them file it themselves"
    )
    assert own_name["outcome"] == "would_file"
    assert bad_amount == ERROR + "amount must be positive, got -5"
    assert no_team.startswith(ERROR + "no team")
    assert nobody_above == (
        ERROR
        + "cannot file: step 1 (team_manager, rule 'Manager signs everything') has no eligible approver, "
        "so nobody could approve it: " + nobody_above.split("so nobody could approve it: ")[1]
    )
    assert "Clara Chief is the requester" in nobody_above
    assert (
        stranger
        == ERROR
        + "ghost@nw.test is not an employee of Northwind Traders, so they may not file spend requests here"
    )
    assert gone == ERROR + "Olaf Gone (old@nw.test) is no longer active, so they may not file spend requests"


async def test_a_request_no_rule_requires_approving_is_not_filed(nw_and_sw: str) -> None:
    before = await written(nw_and_sw)
    async with as_user(nw_and_sw, "rep@nw.test", company="southwind") as client:
        small = await call_ok(client, "submit_spend_request", {"amount": "300"})

    assert (small["outcome"], small["request_id"], small["status"], small["waiting_on"]) == (
        "not_required",
        None,
        None,
        None,
    )
    assert small["route"]["steps"] == []
    assert small["message"] == (
        "No approval is needed for 300.00 EUR for Rita Rep: no rule of the policy applies. Nothing was filed."
    )
    assert await written(nw_and_sw) == before


async def test_the_tools_are_listed_as_writes(nw: str) -> None:
    async with as_user(nw, "dev@nw.test") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    for name in ("submit_spend_request", "decide_approval"):
        annotations = tools[name].annotations
        assert annotations is not None
        assert annotations.read_only_hint is False
    assert tools["submit_spend_request"].input_schema["required"] == ["amount"]
    assert sorted(tools["decide_approval"].input_schema["required"]) == ["decision", "request_id"]

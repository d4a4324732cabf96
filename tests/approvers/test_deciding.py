"""decide_approval through a real MCP client on Northwind, on both databases: file -> decide -> decide,
the delegate of an absent assignee, a rejection that ends the request, and every refusal, which changes
no row. Dev's 8,000 EUR of hardware waits on Lee (for Tara, away until 2026-07-24), then Clara, then Ben.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from server.db.engine import create_engine
from tests.approvers.acting import BIG, approver, as_user, decide, file, written
from tests.categorize.test_tools import answer
from tests.world import call_error, call_ok, execute, raw

pytestmark = pytest.mark.anyio

ERROR = "Error executing tool decide_approval: "
DEV, LEE, TARA, CLARA, BEN = "dev@nw.test", "lead@nw.test", "cto@nw.test", "ceo@nw.test", "fin.b@nw.test"


def decoded(stored: Any) -> dict[str, Any]:
    return dict(json.loads(stored) if isinstance(stored, str) else stored)


async def refused(url: str, user: str | None, arguments: dict[str, Any], company: str = "northwind") -> str:
    async with as_user(url, user, company=company) as client:
        return await call_error(client, "decide_approval", arguments)


async def test_file_then_each_step_decided_by_whom_it_waits_on(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]

    first = await decide(nw, LEE, request_id=ref, decision="approve", step=1)
    second = await decide(nw, CLARA, request_id=ref, decision="approve", comment="Fine by me")
    last = await decide(nw, BEN, request_id=ref, decision="approve")

    assert (first["outcome"], first["recorded"], first["step"], first["status"]) == (
        "decided",
        True,
        1,
        "pending",
    )
    assert (first["decided_by"]["email"], first["on_behalf_of"]) == (
        LEE,
        {"email": TARA, "name": "Tara Tech"},
    )
    assert approver(first["next_step"]) == CLARA
    assert first["message"] == (
        "Lee Lead for Tara Tech approved step 1 of APR-00001 (8,000.00 EUR for Dev Eloper); step 2 waits on "
        "Clara Chief."
    )
    assert (second["step"], second["status"], second["comment"], approver(second["next_step"])) == (
        2,
        "pending",
        "Fine by me",
        BEN,
    )
    assert (last["step"], last["status"], last["next_step"]) == (3, "approved", None)
    assert last["message"] == (
        "Ben Ledger approved step 3 of APR-00001 (8,000.00 EUR for Dev Eloper); the request is approved."
    )
    assert await raw(
        nw,
        "SELECT d.step, a.email, b.email, d.decision, d.comment FROM approval_decisions d "
        "JOIN approval_requests r ON r.id = d.request_id JOIN employees a ON a.id = d.approver_id "
        "LEFT JOIN employees b ON b.id = d.on_behalf_of_id WHERE r.ref = :ref ORDER BY d.step",
        ref=ref,
    ) == [
        (1, LEE, TARA, "approved", None),
        (2, CLARA, None, "approved", "Fine by me"),
        (3, BEN, None, "approved", None),
    ]
    assert await raw(nw, "SELECT status FROM approval_requests WHERE ref = :ref", ref=ref) == [("approved",)]
    changes = await raw(
        nw, "SELECT actor, details FROM data_changes WHERE action = 'decide_approval' ORDER BY id"
    )
    assert [(actor, decoded(details)["table"], decoded(details)["key"]) for actor, details in changes] == [
        (LEE, "approval_decisions", f"{ref} step 1"),
        (CLARA, "approval_decisions", f"{ref} step 2"),
        (BEN, "approval_decisions", f"{ref} step 3"),
        (BEN, "approval_requests", ref),
    ]
    assert decoded(changes[0][1])["after"] == {
        "decision": "approved",
        "approver": LEE,
        "on_behalf_of": TARA,
        "comment": None,
    }
    assert decoded(changes[3][1])["before"] == {"status": "pending"}
    assert decoded(changes[3][1])["after"] == {"status": "approved"}
    async with as_user(nw, DEV) as client:
        shown = await call_ok(client, "suggest_approver", {"request_id": ref})
    assert shown["request"]["status"] == "approved"
    assert [(d["step"], d["approver"]["email"], d["decision"]) for d in shown["request"]["decisions"]] == [
        (1, LEE, "approved"),
        (2, CLARA, "approved"),
        (3, BEN, "approved"),
    ]


async def test_the_absent_assignee_may_decide_their_own_step(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]

    decided = await decide(nw, TARA, request_id=ref, decision="approve")

    assert (decided["decided_by"]["email"], decided["on_behalf_of"], decided["step"]) == (TARA, None, 1)


async def test_a_rejection_ends_the_request(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]

    rejected = await decide(nw, LEE, request_id=ref, decision="reject", comment="Use the shared rig")
    after = await refused(nw, CLARA, {"request_id": ref, "decision": "approve"})

    assert (rejected["status"], rejected["next_step"], rejected["comment"]) == (
        "rejected",
        None,
        "Use the shared rig",
    )
    assert rejected["message"] == (
        "Lee Lead for Tara Tech rejected step 1 of APR-00001 (8,000.00 EUR for Dev Eloper); the request is "
        "rejected."
    )
    assert after == ERROR + "APR-00001 is already rejected: there is nothing left to decide"
    assert await raw(nw, "SELECT status FROM approval_requests WHERE ref = :ref", ref=ref) == [("rejected",)]


async def test_an_imported_open_request_is_decided_like_a_filed_one(nw: str) -> None:
    # R-4 (imported): Rita's 6,000 EUR, step 1 approved by Clara; step 2 is finance (Ada).
    decided = await decide(nw, "fin.a@nw.test", request_id="R-4", decision="approve")

    assert (decided["step"], decided["status"], decided["next_step"]) == (2, "approved", None)


async def test_every_refusal_says_why_and_changes_nothing(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]
    await decide(nw, LEE, request_id=ref, decision="approve")
    before = await written(nw)
    approve = {"request_id": ref, "decision": "approve"}

    refusals = {
        "no user": await refused(nw, None, approve),
        "stranger": await refused(nw, "ghost@nw.test", approve),
        "inactive": await refused(nw, "old@nw.test", approve),
        "requester": await refused(nw, DEV, approve),
        "not theirs": await refused(nw, BEN, approve),
        "twice": await refused(nw, LEE, approve),
        "the absent one, decided for": await refused(nw, TARA, approve),
        "decided step": await refused(nw, CLARA, {**approve, "step": 1}),
        "a step ahead": await refused(nw, CLARA, {**approve, "step": 3}),
        "no comment": await refused(nw, CLARA, {"request_id": ref, "decision": "reject"}),
        "unknown": await refused(nw, CLARA, {"request_id": "APR-0000", "decision": "approve"}),
        "blank": await refused(nw, CLARA, {"request_id": " ", "decision": "approve"}),
        "bad decision": await refused(nw, CLARA, {"request_id": ref, "decision": "maybe"}),
    }

    assert await written(nw) == before
    assert {
        reason: text.removeprefix(ERROR)
        for reason, text in refusals.items()
        if reason not in ("blank", "bad decision")
    } == {
        "no user": "this token names no user, so it may read and suggest but not decide approvals: decisions "
        "are made by a person. Use a token (or API key) bound to an employee, or OUTLAY_USER locally",
        "stranger": "ghost@nw.test is not an employee of Northwind Traders, so they may not decide "
        "approvals here",
        "inactive": "Olaf Gone (old@nw.test) is no longer active, so they may not decide approvals",
        "requester": "Dev Eloper filed APR-00001 (the requester): nobody decides their own request",
        "not theirs": "step 2 of APR-00001 waits on Clara Chief; only they may decide it, not Ben Ledger",
        "twice": "Lee Lead already decided step 1 of APR-00001: nobody approves a request twice",
        "the absent one, decided for": "Tara Tech already decided step 1 of APR-00001: nobody approves a "
        "request twice",
        "decided step": "step 1 of APR-00001 is decided already (approved by Lee Lead for Tara Tech); it "
        "is at step 2 now",
        "a step ahead": "APR-00001 is at step 2, not step 3: steps are decided in order",
        "no comment": "a rejection needs a `comment`: say why, in the decider's words, for the requester",
        "unknown": "no approval request with id 'APR-0000'; did you mean 'APR-00001'?",
    }
    assert refusals["blank"].startswith('request_id: " " is empty; it is required')
    assert "decision" in refusals["bad decision"]
    assert "\n" not in "".join(refusals.values())


async def test_waiting_on_a_delegate_names_the_absent_assignee(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]

    wrong = await refused(nw, CLARA, {"request_id": ref, "decision": "approve"})

    assert wrong == ERROR + (
        "step 1 of APR-00001 waits on Lee Lead (acting for Tara Tech, who is away); only they may decide it, "
        "not Clara Chief"
    )


async def test_a_dry_run_and_a_declined_confirmation_record_nothing(nw: str) -> None:
    ref = (await file(nw, DEV, **BIG))["request_id"]
    before = await written(nw)
    asked: list[str] = []

    dry = await decide(nw, LEE, request_id=ref, decision="reject", comment="No", dry_run=True)
    async with as_user(nw, LEE, elicitation_callback=await answer(False, asked)) as client:
        declined = await call_ok(client, "decide_approval", {"request_id": ref, "decision": "approve"})
    nothing = await written(nw)
    async with as_user(nw, LEE, elicitation_callback=await answer(True, asked)) as client:
        accepted = await call_ok(client, "decide_approval", {"request_id": ref, "decision": "approve"})

    assert nothing == before
    assert (dry["outcome"], dry["recorded"], dry["dry_run"], dry["status"], dry["next_step"]) == (
        "would_decide",
        False,
        True,
        "rejected",
        None,
    )
    assert dry["message"] == (
        "Dry run: Lee Lead for Tara Tech rejected step 1 of APR-00001 (8,000.00 EUR for Dev Eloper) would be "
        "recorded; it would be rejected. Nothing was written."
    )
    assert (
        declined["outcome"],
        declined["recorded"],
        declined["status"],
        approver(declined["next_step"]),
    ) == (
        "declined",
        False,
        "pending",
        "lead@nw.test>cto@nw.test",
    )
    assert asked == ["Approve approval request APR-00001?"] * 2
    assert (accepted["outcome"], accepted["step"]) == ("decided", 1)


async def test_a_request_of_another_company_is_not_found(nw_and_sw: str) -> None:
    """Southwind holds the same people and ids, and an open request S-1 waiting on Sam: Northwind's Sam
    cannot see it, and Southwind's Sam decides only Southwind's."""
    before = await written(nw_and_sw)

    across = await refused(nw_and_sw, "sales@nw.test", {"request_id": "S-1", "decision": "approve"})
    assert across == ERROR + "no approval request with id 'S-1'; ids look like APR-00042"
    assert await written(nw_and_sw) == before

    south = await refused(
        nw_and_sw, "lead@nw.test", {"request_id": "S-1", "decision": "approve"}, company="southwind"
    )
    assert south == ERROR + "step 1 of S-1 waits on Sam Seller; only they may decide it, not Lee Lead"
    async with as_user(nw_and_sw, "sales@nw.test", company="southwind") as client:
        decided = await call_ok(client, "decide_approval", {"request_id": "S-1", "decision": "approve"})
    assert (decided["status"], decided["step"]) == ("approved", 1)
    assert await raw(
        nw_and_sw,
        "SELECT c.slug, r.ref, r.status FROM approval_requests r JOIN companies c ON c.id = r.company_id "
        "WHERE r.status = 'pending' OR r.ref = 'S-1' ORDER BY c.slug, r.ref",
    ) == [("northwind", "R-4", "pending"), ("southwind", "R-4", "pending"), ("southwind", "S-1", "approved")]


async def test_a_decision_waits_for_one_in_progress_and_then_sees_it(nw: str) -> None:
    """PostgreSQL: while another transaction holds the request (as a decision in progress does), Tara's
    decision of step 1 waits; that transaction records step 1 (Lee for her) and commits; Tara's then reads
    the decided step and is refused, and one decision of step 1 stands. (SQLite has a single writer.)"""
    if not nw.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    ref = (await file(nw, DEV, **BIG))["request_id"]
    engine = create_engine(nw)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("BEGIN"))
            await holder.execute(
                text("SELECT id FROM approval_requests WHERE ref = :ref FOR UPDATE"), {"ref": ref}
            )
            tara = asyncio.create_task(refused(nw, TARA, {"request_id": ref, "decision": "approve"}))
            with anyio.fail_after(10):
                # Until Tara's transaction waits for the row: the database's state, no event to await.
                while not (await holder.execute(text(WAITING))).scalar():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await holder.execute(text(LEE_DECIDES), {"ref": ref})
            await holder.execute(text("COMMIT"))
            outcome = await tara
    finally:
        await engine.dispose()

    assert outcome == ERROR + "Tara Tech already decided step 1 of APR-00001: nobody approves a request twice"
    assert await raw(
        nw,
        "SELECT d.step, a.email FROM approval_decisions d JOIN approval_requests r ON r.id = d.request_id "
        "JOIN employees a ON a.id = d.approver_id WHERE r.ref = :ref",
        ref=ref,
    ) == [(1, LEE)]


WAITING = "SELECT COUNT(*) > 0 FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')"
LEE_DECIDES = """
    INSERT INTO approval_decisions
        (company_id, request_id, step, approver_id, on_behalf_of_id, decision, decided_at)
    SELECT r.company_id, r.id, 1, a.id, b.id, 'approved', r.submitted_at FROM approval_requests r
    JOIN employees a ON a.company_id = r.company_id AND a.email = 'lead@nw.test'
    JOIN employees b ON b.company_id = r.company_id AND b.email = 'cto@nw.test'
    WHERE r.ref = :ref
"""


async def test_the_database_refuses_a_second_decision_of_a_step(nw: str) -> None:
    """The backstop of the row lock, on both backends: one decision per (request, step)."""
    ref = (await file(nw, DEV, **BIG))["request_id"]
    await execute(nw, LEE_DECIDES, ref=ref)

    with pytest.raises(IntegrityError):
        await execute(nw, LEE_DECIDES, ref=ref)

"""Property: whoever tries to decide whichever request, only the person its current step is assigned to
(or the delegate acting for them today) gets through; anyone else — another employee, the requester,
someone who decided an earlier step, a stranger, a caller without a user, anyone on a decided request —
is refused, and nothing changes. Drawn over Northwind's requests in every state (open, partly decided,
approved, rejected, filed and imported), on both backends, through a real MCP client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.approvers.acting import BIG, as_user, decide, file, written
from tests.approvers.conftest import NORTHWIND, import_folder
from tests.conftest import BACKENDS
from tests.world import call_ok

PEOPLE = [
    line.split(",")[0] for line in (NORTHWIND / "employees.csv").read_text().splitlines()[1:] if line.strip()
]
DECIDERS = [*PEOPLE, "ghost@nw.test", None]
PROPERTY = settings(
    max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


async def _requests(url: str) -> list[str]:
    """Requests in every state: imported (R-1 approved, R-4 half decided) and filed (open, half decided,
    rejected, approved)."""
    dev = [(await file(url, "dev@nw.test", **BIG))["request_id"] for _ in range(2)]
    invoice = (await file(url, "rep@nw.test", amount="1000", payment_type="invoice"))["request_id"]
    rejected = (await file(url, "rep@nw.test", amount="300"))["request_id"]
    small = (await file(url, "res@nw.test", amount="300"))["request_id"]
    await decide(url, "lead@nw.test", request_id=dev[1], decision="approve")
    await decide(url, "sales@nw.test", request_id=rejected, decision="reject", comment="No")
    await decide(url, "sales@nw.test", request_id=invoice, decision="approve")
    await decide(url, "cto@nw.test", request_id=small, decision="approve")
    return ["R-1", "R-4", *dev, invoice, rejected, small]


@pytest.fixture(scope="module", params=BACKENDS)
def requests(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> tuple[str, list[str]]:
    url = make_database(str(request.param))
    asyncio.run(import_folder(url, NORTHWIND))
    return url, asyncio.run(_requests(url))


def _may_decide(shown: dict[str, Any]) -> set[str]:
    """From what suggest_approver shows: the person the first undecided step waits on and whom they
    stand in for, unless they decided an earlier step; nobody when the request is not pending."""
    info = shown["request"]
    if info["status"] != "pending" or len(info["decisions"]) >= len(shown["steps"]):
        return set()
    acting = shown["steps"][len(info["decisions"])]["approver"]
    if acting is None:
        return set()
    step = {acting["email"], *([acting["on_behalf_of"]["email"]] if acting["on_behalf_of"] else [])}
    earlier = {p["email"] for d in info["decisions"] for p in (d["approver"], d["on_behalf_of"]) if p}
    return step - earlier - {info["requester"]["email"]}


async def _attempt(url: str, ref: str, decider: str | None, decision: str) -> tuple[bool, bool, str]:
    """(allowed by the oracle, the call succeeded, its text), the decision recorded for real when the
    oracle forbids it and as a dry run when it allows it, so that the database never changes."""
    async with as_user(url, None) as reader:
        allowed = decider in _may_decide(await call_ok(reader, "suggest_approver", {"request_id": ref}))
    arguments = {"request_id": ref, "decision": decision, "comment": "Because", "dry_run": allowed}
    async with as_user(url, decider) as client:
        result = await client.call_tool("decide_approval", arguments)
    return allowed, not result.is_error, result.content[0].model_dump()["text"]


def test_only_the_assignee_or_their_delegate_may_decide_and_a_refusal_changes_nothing(
    requests: tuple[str, list[str]],
) -> None:
    url, refs = requests
    before = asyncio.run(written(url))
    seen: set[bool] = set()

    @PROPERTY
    @given(
        ref=st.sampled_from(refs),
        decider=st.sampled_from(DECIDERS),
        decision=st.sampled_from(["approve", "reject"]),
    )
    def attempt(ref: str, decider: str | None, decision: str) -> None:
        allowed, succeeded, text = asyncio.run(_attempt(url, ref, decider, decision))
        seen.add(allowed)
        assert succeeded == allowed, (ref, decider, text)
        assert "\n" not in text
        assert asyncio.run(written(url)) == before, (ref, decider, text)

    attempt()
    assert seen == {True, False}  # both sides of the property were exercised

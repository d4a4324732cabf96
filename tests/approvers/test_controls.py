"""The controller's objections of issue 20, through a real MCP client on both databases and protocol
eras: a finance pool that would go to the requester's own report, a 60,000 EUR chain of six
requirements with `min_distinct_approvers`, and a delegate's step; with the wording that says who
really signs, and the `outlay://people/absences{?date}` resource.

Southwind is Northwind (tests/approvers/fixtures/northwind) with no `finance` role, so that finance
falls back to anyone in the Finance team, an office manager (Olivia) in Finance with Ben reporting to
her, a VP, higher limits for Tara and the ledger clerks, Vera away, and a rule over 50,000 EUR that
asks for the CEO, the VP and six different signers. Both companies share one database.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.server import MCPServer
from mcp_types import TextResourceContents

from server.context import AppContext
from tests.approvers.conftest import NORTHWIND, import_folder
from tests.approvers.test_suggest_approver import _chain
from tests.conftest import BACKENDS
from tests.world import call_ok, connect

pytestmark = pytest.mark.anyio

EMPLOYEES = {
    "fin.a@nw.test": "fin.a@nw.test,Ada Ledger,Finance,cfo@nw.test,accountant,100000,true,,,",
    "fin.b@nw.test": "fin.b@nw.test,Ben Ledger,Finance,office@nw.test,accountant,100000,true,,,",
    "cto@nw.test": "cto@nw.test,Tara Tech,Engineering,ceo@nw.test,director,100000,true,"
    "2026-07-18,2026-07-24,lead@nw.test",
}
ADDED = (
    "office@nw.test,Olivia Office,Finance,cfo@nw.test,office_manager,10000,true,,,\n"
    "vp@nw.test,Vera Vice,Executive,ceo@nw.test,vp,500000,true,2026-07-20,2026-08-02,it@nw.test\n"
)
SIX_SIGNERS = {
    "name": "Over 50,000 EUR: CEO and VP, six signers",
    "when": {"amount_over": "50000"},
    "steps": ["role:ceo", "role:vp"],
    "min_distinct_approvers": 6,
}


def southwind(folder: Path) -> Path:
    shutil.copytree(NORTHWIND, folder)
    (folder / "company.csv").write_text("slug,name,currency\nsouthwind,Southwind Traders,EUR\n")
    lines = (folder / "employees.csv").read_text().splitlines(keepends=True)
    edited = [EMPLOYEES.get(line.split(",")[0], line.rstrip("\n")) + "\n" for line in lines]
    (folder / "employees.csv").write_text("".join(edited) + ADDED)
    policy = json.loads((folder / "approval_policy.json").read_text())
    policy["rules"].append(SIX_SIGNERS)
    (folder / "approval_policy.json").write_text(json.dumps(policy))
    return folder


@pytest.fixture(scope="module", params=BACKENDS)
def both_url(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    url = make_database(str(request.param))
    asyncio.run(import_folder(url, NORTHWIND))
    asyncio.run(import_folder(url, southwind(tmp_path_factory.mktemp("southwind") / "southwind")))
    return url


@pytest.fixture
async def south(
    servers: Callable[[str, str], MCPServer[AppContext]], both_url: str, mode: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(both_url, "southwind"), mode) as client:
        yield client


@pytest.fixture
async def north(
    servers: Callable[[str, str], MCPServer[AppContext]], both_url: str, mode: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(both_url, "northwind"), mode) as client:
        yield client


async def read(client: Client, uri: str) -> Any:
    [contents] = (await client.read_resource(uri)).contents
    assert isinstance(contents, TextResourceContents)
    return json.loads(contents.text)


async def test_the_finance_step_never_goes_to_the_requesters_own_report(south: Client) -> None:
    answer = await call_ok(
        south, "suggest_approver", {"requester": "office@nw.test", "amount": "5500", "currency": "GBP"}
    )

    # Ben, her report, has the least open work and would come first; Felix approves step 1 already.
    assert answer["request"]["amount_company"] == {"amount": "6407.50", "currency": "EUR"}
    assert _chain(answer) == ["cfo", "ceo", "fin.a"]
    assert answer["steps"][2]["alternates"] == []


async def test_six_requirements_need_six_signers_or_say_which_cannot_be_met(south: Client) -> None:
    answer = await call_ok(south, "suggest_approver", {"requester": "dev@nw.test", "amount": "60000"})

    assert [step["requirement"] for step in answer["steps"]] == [
        "team_manager",
        "manager_of:team_manager",
        "finance_team",
        "role:cfo",
        "role:ceo",
        "role:vp",
    ]
    assert _chain(answer) == ["lead>cto", "ceo", "fin.b", "cfo", None, "it>vp"]
    assert not answer["complete"]
    assert answer["steps"][4]["reason"] == (
        "Clara Chief has the role 'ceo'; but Clara Chief already signs at step 2, and rule 'Over 50,000 EUR: "
        "CEO and VP, six signers' asks for at least 6 different signers, and nobody is above them."
    )
    assert answer["steps"][1]["also_satisfies"] == []  # the CEO's step is no longer covered by step 2
    assert answer["steps"][5]["reason"] == (
        "Vera Vice has the role 'vp'; Ivan Tools acts for Vera Vice (out of office 2026-07-20–2026-08-02)."
    )


async def test_a_delegates_signature_covers_only_the_absent_persons_step(north: Client) -> None:
    answer = await call_ok(
        north, "suggest_approver", {"requester": "res@nw.test", "amount": "2500", "category": "TRAVEL-AIR"}
    )

    # Tara owns Research's cost center too, but Lee signed for her: the cost center goes up to Clara.
    assert _chain(answer) == ["lead>cto", "ceo"]
    first, second = answer["steps"]
    assert first["reason"] == (
        "Tara Tech manages Engineering (Research has no manager; Engineering is the nearest team above); "
        "Lee Lead acts for Tara Tech (out of office 2026-07-18–2026-07-24)."
    )
    assert first["also_satisfies"] == []
    assert second["reason"] == (
        "Tara Tech owns cost center CC-300; Tara Tech's step 1 is signed by their delegate Lee Lead, which "
        "covers only that step, so it goes up to Clara Chief."
    )
    assert "1. Lee Lead acting for Tara Tech (team_manager)" in (
        (await north.call_tool("suggest_approver", {"requester": "res@nw.test", "amount": "300"}))
        .content[0]
        .text  # type: ignore[union-attr]
    )


async def test_a_tie_break_without_history_says_everything_else_is_equal(south: Client) -> None:
    # Nobody in Finance decided an Executive request; Felix has an open request waiting.
    answer = await call_ok(south, "suggest_approver", {"requester": "it@nw.test", "amount": "6000"})

    finance = answer["steps"][1]
    assert finance["requirement"] == "finance_team"
    assert finance["reason"].endswith(
        "Ada Ledger comes before Ben Ledger: Ada Ledger and Ben Ledger are equal on history, open "
        "workload (0 open requests each) and speed, so alphabetical order by e-mail decides."
    )
    assert [a["email"] for a in finance["alternates"]] == ["fin.b@nw.test", "office@nw.test", "cfo@nw.test"]


async def test_a_decided_step_of_a_stored_request_says_who_signed_and_when(north: Client) -> None:
    answer = await call_ok(north, "suggest_approver", {"request_id": "R-4"})

    first, second = answer["steps"]
    assert (first["status"], first["approver"]["email"], first["alternates"]) == (
        "approved",
        "ceo@nw.test",
        [],
    )
    assert first["decision"] == answer["request"]["decisions"][0]
    assert first["reason"].startswith("approved by Clara Chief on 2026-07-17. Required because: ")
    assert (second["status"], second["decision"]) == ("assigned", None)


async def test_absences_today_with_their_delegates(south: Client) -> None:
    assert await read(south, "outlay://people/absences") == {
        "company": "Southwind Traders",
        "date": "2026-07-20",
        "absences": [
            {
                "email": "cto@nw.test",
                "name": "Tara Tech",
                "team": "Engineering",
                "role": "director",
                "away_from": "2026-07-18",
                "away_until": "2026-07-24",
                "delegate": {"email": "lead@nw.test", "name": "Lee Lead", "away": False},
                "stand_in": "lead@nw.test",
            },
            {
                "email": "vp@nw.test",
                "name": "Vera Vice",
                "team": "Executive",
                "role": "vp",
                "away_from": "2026-07-20",
                "away_until": "2026-08-02",
                "delegate": {"email": "it@nw.test", "name": "Ivan Tools", "away": False},
                "stand_in": "it@nw.test",
            },
        ],
    }


async def test_absences_on_a_day_and_only_the_callers_company(north: Client, south: Client) -> None:
    later = await read(south, "outlay://people/absences?date=2026-07-30")
    theirs = await read(north, "outlay://people/absences?date=2026-07-30")

    assert (later["date"], [a["email"] for a in later["absences"]]) == ("2026-07-30", ["vp@nw.test"])
    assert (theirs["company"], theirs["absences"]) == ("Northwind Traders", [])


async def test_absences_refuse_a_day_that_is_not_one(south: Client) -> None:
    with pytest.raises(MCPError) as failed:
        await south.read_resource("outlay://people/absences?date=next-monday")

    assert "no day 'next-monday': use YYYY-MM-DD, e.g. 2026-07-20" in str(failed.value)

"""No resource URI or completion of one company ever returns another company's rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp_types import ResourceTemplateReference, TextResourceContents

pytestmark = pytest.mark.anyio


async def read_json(client: Client, uri: str) -> Any:
    [contents] = (await client.read_resource(uri)).contents
    assert isinstance(contents, TextResourceContents)
    return json.loads(contents.text)


async def test_reference_data_is_each_companys_own(acme: Client, globex: Client) -> None:
    acme_codes = [c["code"] for c in (await read_json(acme, "outlay://categories"))["categories"]]
    globex_codes = [c["code"] for c in (await read_json(globex, "outlay://categories"))["categories"]]
    globex_teams = (await read_json(globex, "outlay://teams"))["teams"]

    assert "HARDWARE" not in acme_codes
    assert globex_codes == ["HARDWARE", "TRAVEL"]
    assert {team["cost_center"][:4] for team in globex_teams} == {"CC-G"}


async def test_the_same_expense_uri_reads_each_companys_own_expense(acme: Client, globex: Client) -> None:
    mine = await read_json(acme, "outlay://expenses/EXP-000100")
    theirs = await read_json(globex, "outlay://expenses/EXP-000100")

    assert (mine["descriptor"], theirs["descriptor"]) == (
        "LUFTHANSA 2209876 FRA-JFK",
        "GLOBEX DOOMSDAY DEVICE",
    )


async def test_budgets_are_each_companys_own(acme: Client, globex: Client) -> None:
    mine = await read_json(acme, "outlay://budgets/2026-Q3")
    theirs = await read_json(globex, "outlay://budgets/2026-Q3")

    assert "99999.00" not in [b["amount"] for b in mine["budgets"]]
    assert [(b["team"], b["amount"]) for b in theirs["budgets"]] == [("Marketing", "99999.00")]
    assert theirs["currency"] == "USD"


async def test_completions_are_each_companys_own(acme: Client, globex: Client) -> None:
    periods = ResourceTemplateReference(uri="outlay://budgets/{period}")
    expenses = ResourceTemplateReference(uri="outlay://expenses/{expense_id}")

    theirs = (await globex.complete(periods, {"name": "period", "value": ""})).completion.values
    mine = (await acme.complete(periods, {"name": "period", "value": "2025"})).completion.values
    their_refs = (
        await globex.complete(expenses, {"name": "expense_id", "value": "EXP-00003"})
    ).completion.values
    my_refs = (await acme.complete(expenses, {"name": "expense_id", "value": "EXP-00003"})).completion.values

    assert (theirs, mine) == (["2025", "2026-Q3"], [])
    assert their_refs == ["EXP-000030"]  # globex has 30 expenses, acme 90
    assert my_refs == [f"EXP-0000{n}" for n in range(30, 40)]

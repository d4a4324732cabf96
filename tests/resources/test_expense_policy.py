"""outlay://policy/expenses through a real MCP client: the version in force, or a plain statement that
none is loaded (the review's patterns only, with their default settings), each company its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client

from resources.logic import NO_EXPENSE_POLICY
from server.db.engine import create_engine, create_session_factory
from server.kit.expense_policy import NO_POLICY
from server.policies.service import load_policy
from tests.resources.test_resources import read_json
from tests.world import build, connect, seed_world

pytestmark = pytest.mark.anyio
URI = "outlay://policy/expenses"


async def test_without_a_policy_it_says_none_is_loaded_and_shows_the_default_patterns(acme: Client) -> None:
    assert await read_json(acme, URI) == {
        "company": "Acme Corp",
        "loaded": False,
        "version": None,
        "currency": "EUR",
        "policy": NO_POLICY.model_dump(mode="json", exclude_none=True),
        "note": NO_EXPENSE_POLICY,
    }


async def test_the_highest_version_is_in_force_for_its_company_only(
    database_url: str, mode: str, tmp_path: Path
) -> None:
    await seed_world(database_url)
    engine = create_engine(database_url)
    try:
        for version, above in enumerate(("25", "40"), start=1):
            rules = [{"id": "receipts", "kind": "receipt_required", "above": above}]
            file = tmp_path / f"v{version}.json"
            file.write_text(json.dumps({"rules": rules, "patterns": {"refunds": {"enabled": False}}}))
            async with create_session_factory(engine)() as session, session.begin():
                await load_policy(session, "acme", file, actor="test")
    finally:
        await engine.dispose()

    async with connect(build(database_url, "acme"), mode) as acme:
        doc = await read_json(acme, URI)
    async with connect(build(database_url, "globex"), mode) as globex:
        other = await read_json(globex, URI)

    assert (doc["loaded"], doc["version"], doc["currency"]) == (True, 2, "EUR")
    assert doc["policy"]["rules"] == [{"id": "receipts", "kind": "receipt_required", "above": "40"}]
    assert doc["policy"]["patterns"]["refunds"] == {"enabled": False, "lookback_days": 120}
    assert (
        doc["note"] == "Version 2 is in force: review_expenses checks every rule and looks for the patterns."
    )
    assert (other["company"], other["loaded"], other["currency"]) == ("Globex Inc", False, "USD")

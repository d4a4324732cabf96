"""A write through categorize_expenses is audited row by row: each expense it categorized, before and
after; a dry run or a call that writes nothing records no changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.categorize.conftest import demo_folder, fresh_url, server_for
from tests.world import call_ok, connect, raw

pytestmark = pytest.mark.anyio
__all__ = ["demo_folder", "fresh_url"]  # fixtures, shared with the categorize tests


def changes_of(stored: Any) -> list[dict[str, Any]]:
    # PostgreSQL's driver decodes JSON; SQLite hands back the text.
    return list(json.loads(stored) if isinstance(stored, str) else stored)


async def test_an_applied_categorization_records_each_expense_before_and_after(fresh_url: str) -> None:
    async with connect(server_for(fresh_url), "auto") as client:
        dry = await call_ok(client, "categorize_expenses", {"apply": True, "dry_run": True, "limit": 1000})
        applied = await call_ok(client, "categorize_expenses", {"apply": True, "limit": 1000})
        again = await call_ok(client, "categorize_expenses", {"apply": True, "limit": 1000})

    assert dry["applied"] == again["applied"] == 0
    written = {i["expense_id"]: i["category"]["code"] for i in applied["items"] if i["outcome"] == "applied"}
    assert len(written) == applied["applied"] > 0
    rows = await raw(
        fresh_url, "SELECT name, outcome, changes FROM audit_events WHERE kind = 'tool' ORDER BY id"
    )
    assert [(name, outcome) for name, outcome, _ in rows] == [("categorize_expenses", "ok")] * 3
    assert (rows[0][2], rows[2][2]) == (None, None)  # the dry run and the second pass wrote nothing
    changes = changes_of(rows[1][2])
    assert {c["key"]: c["after"]["category"] for c in changes} == written
    stored = await raw(
        fresh_url,
        "SELECT e.ref, c.code, e.category_source, e.category_confidence FROM expenses e "
        "JOIN categories c ON c.id = e.category_id WHERE e.category_source IN ('model', 'rule')",
    )
    after = {ref: (code, source, confidence) for ref, code, source, confidence in stored}
    for change in changes:
        assert change["table"] == "expenses"
        assert change["before"] == {"category": None, "category_source": None, "category_confidence": None}
        expected = after[change["key"]]
        assert (change["after"]["category"], change["after"]["category_source"]) == expected[:2]
        assert change["after"]["category_confidence"] == pytest.approx(expected[2])

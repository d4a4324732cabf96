"""A write through categorize_expenses is recorded once, row by row, in the record of data changes: each
expense it categorized, before and after, under the id of the call that wrote it (which its row in the
trail of calls carries too); a dry run or a call that writes nothing records no changes. `outlay audit
--json` lists each call with what it changed."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from server.cli import main
from tests.categorize.conftest import demo_folder, fresh_url, server_for
from tests.world import call_ok, connect, raw

pytestmark = pytest.mark.anyio
__all__ = ["demo_folder", "fresh_url"]  # fixtures, shared with the categorize tests


def decoded(stored: Any) -> dict[str, Any]:
    # PostgreSQL's driver decodes JSON; SQLite hands back the text.
    return dict(json.loads(stored) if isinstance(stored, str) else stored)


async def test_an_applied_categorization_records_each_expense_before_and_after(
    fresh_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with connect(server_for(fresh_url), "auto") as client:
        dry = await call_ok(client, "categorize_expenses", {"apply": True, "dry_run": True, "limit": 1000})
        applied = await call_ok(client, "categorize_expenses", {"apply": True, "limit": 1000})
        again = await call_ok(client, "categorize_expenses", {"apply": True, "limit": 1000})

    assert dry["applied"] == again["applied"] == 0
    written = {i["expense_id"]: i["category"]["code"] for i in applied["items"] if i["outcome"] == "applied"}
    assert len(written) == applied["applied"] > 0
    calls = await raw(
        fresh_url, "SELECT name, outcome, call_id FROM audit_events WHERE kind = 'tool' ORDER BY id"
    )
    assert [(name, outcome) for name, outcome, _ in calls] == [("categorize_expenses", "ok")] * 3
    recorded = await raw(
        fresh_url, "SELECT call_id, actor, details FROM data_changes WHERE action = 'categorize' ORDER BY id"
    )
    # Only the second call wrote: the dry run and the second pass recorded nothing.
    assert {(call_id, actor) for call_id, actor, _ in recorded} == {(calls[1][2], "local")}
    changes = [decoded(details) for _, _, details in recorded]
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

    monkeypatch.setenv("OUTLAY_DATABASE_URL", fresh_url)
    assert await anyio.to_thread.run_sync(main, ["audit", "--tool", "categorize_expenses", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [len(event["changes"] or []) for event in listed] == [0, len(written), 0]  # newest first
    assert listed[1]["changes"] == changes

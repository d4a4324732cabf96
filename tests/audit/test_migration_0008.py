"""Migration 0008 keeps every audit record while giving each one place: a change held by a call's
audit_events row moves to data_changes under the call's id, merged with categorize's own audit_log row
for the same change; imports and training stay as they were; the downgrade puts the changes back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import text

from server.db.engine import create_engine
from tests.world import migrate, raw

pytestmark = pytest.mark.anyio

CHANGE = {
    "table": "expenses",
    "key": "EXP-000001",
    "before": {"category": None, "category_source": None, "category_confidence": None},
    "after": {"category": "TRAVEL", "category_source": "model", "category_confidence": 0.97},
}
LEGACY = [
    "INSERT INTO companies (id, slug, name, currency, created_at) VALUES (1, 'acme', 'Acme', 'EUR', :at)",
    "INSERT INTO audit_log (company_id, at, actor, action, details) VALUES "
    "(1, :at, 'cli', 'import', :import_details), (1, :at, 'local', 'categorize', :categorize_details)",
    "INSERT INTO audit_events (at, subject, company, kind, name, arguments_sha256, outcome, latency_ms, "
    "changes) VALUES (:at, 'local', 'acme', 'tool', 'categorize_expenses', 'x', 'ok', 1.0, :changes), "
    "(:at, 'local', 'acme', 'tool', 'get_expense', 'y', 'ok', 1.0, NULL)",
]


def decoded(stored: Any) -> Any:
    return json.loads(stored) if isinstance(stored, str) else stored


async def test_a_calls_changes_move_to_the_record_of_data_changes_once(database_url: str) -> None:
    await migrate(database_url, "0007", down=True)
    engine = create_engine(database_url)
    parameters = {
        "at": dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC),
        "import_details": json.dumps({"source": "acme", "replaced": False}),
        "categorize_details": json.dumps(
            {"expense": "EXP-000001", "category": "TRAVEL", "stage": "model", "model_version": 3}
        ),
        "changes": json.dumps([CHANGE]),
    }
    try:
        async with engine.begin() as connection:
            for statement in LEGACY:
                names = [name for name in parameters if f":{name}" in statement]
                await connection.execute(text(statement), {name: parameters[name] for name in names})
    finally:
        await engine.dispose()

    await migrate(database_url, "head")

    events = await raw(database_url, "SELECT name, call_id FROM audit_events ORDER BY id")
    assert [name for name, _ in events] == ["categorize_expenses", "get_expense"]
    assert len(events[0][1]) == 32
    assert events[1][1] is None
    recorded = await raw(
        database_url, "SELECT company_id, actor, action, details, call_id FROM data_changes ORDER BY id"
    )
    assert [(company, actor, action, call) for company, actor, action, _, call in recorded] == [
        (1, "cli", "import", None),
        (1, "local", "categorize", events[0][1]),
    ]
    assert decoded(recorded[1][3]) == {**CHANGE, "stage": "model", "model_version": 3}

    await migrate(database_url, "0007", down=True)

    restored = await raw(database_url, "SELECT name, changes FROM audit_events ORDER BY id")
    assert [(name, decoded(changes)) for name, changes in restored] == [
        ("categorize_expenses", [{**CHANGE, "stage": "model", "model_version": 3}]),
        ("get_expense", None),
    ]
    assert await raw(database_url, "SELECT action FROM audit_log ORDER BY id") == [("import",)]
    await migrate(database_url, "head")  # and up again, for the session's teardown

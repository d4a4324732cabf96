"""Migration 0012 gives audit_events a `count` (1 for the rows already there, each one call), which the
abuse limits' per-minute rows fill; its downgrade drops it and leaves the table append-only."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from tests.world import execute, migrate, raw

pytestmark = pytest.mark.anyio

CALL = (
    "INSERT INTO audit_events (at, subject, company, kind, name, arguments_sha256, outcome, latency_ms) "
    "VALUES ('2026-12-01 10:00:00', 'local', 'acme', 'tool', 'get_expense', 'x', 'ok', 1.0)"
)


async def test_earlier_rows_count_one_and_the_table_stays_append_only_both_ways(database_url: str) -> None:
    await migrate(database_url, "0011", down=True)
    try:
        await execute(database_url, CALL)
        await migrate(database_url, "head")

        assert await raw(database_url, "SELECT name, count FROM audit_events") == [("get_expense", 1)]
        with pytest.raises(DBAPIError, match="append-only"):
            await execute(database_url, "UPDATE audit_events SET count = 2")

        await migrate(database_url, "0011", down=True)
        assert await raw(database_url, "SELECT name FROM audit_events") == [("get_expense",)]
        with pytest.raises(DBAPIError, match="append-only"):
            await execute(database_url, "DELETE FROM audit_events")
    finally:
        await migrate(database_url, "head")

"""approval_history.csv may hold open requests: a pending request nobody has decided yet is one row with
its decision columns empty; a pending request with some steps decided is its decisions' rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import import_company
from tests.importer.edits import append
from tests.world import raw

pytestmark = pytest.mark.anyio

OPEN = "R-010,rep@acme.test,,MEALS,84.00,EUR,,card,Team lunch,2026-03-01T09:00:00+00:00,pending,,,,,,"
HALF = (
    "R-011,cto@acme.test,,,9000.00,EUR,,invoice,,2026-03-02T09:00:00+00:00,pending,,1,ceo@acme.test,,"
    "approved,2026-03-02T11:00:00+00:00"
)


async def test_open_requests_are_imported_with_the_decisions_they_have(
    folder: Path, engine: AsyncEngine, database_url: str
) -> None:
    append("approval_history.csv", OPEN, HALF)(folder)

    stats = await import_company(create_session_factory(engine), folder)

    assert (stats.approval_requests, stats.approval_decisions) == (5, 5)
    assert await raw(
        database_url,
        "SELECT r.ref, r.status, r.description, COUNT(d.id) FROM approval_requests r "
        "LEFT JOIN approval_decisions d ON d.request_id = r.id WHERE r.ref IN ('R-010', 'R-011') "
        "GROUP BY r.ref, r.status, r.description ORDER BY r.ref",
    ) == [("R-010", "pending", "Team lunch", 0), ("R-011", "pending", None, 1)]

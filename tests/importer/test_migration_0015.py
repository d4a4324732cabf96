"""Migration 0015 lets an expense have no employee, keeping every row that hangs off the expenses (SQLite
rebuilds the table: with foreign keys on, dropping its old copy would cascade), and its downgrade refuses
while some expense has no employee."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import import_company
from tests.importer.conftest import copy_valid
from tests.world import execute, migrate, raw

pytestmark = pytest.mark.anyio

HANGING = (
    "SELECT (SELECT count(*) FROM expenses), (SELECT count(*) FROM expense_dimensions), "
    # the pairs charged more than once: 0026 gives those charged once their rows (its own test)
    "(SELECT count(*) FROM repeat_charges AS r WHERE (SELECT count(*) FROM expenses AS e WHERE "
    "e.team_id = r.team_id AND e.merchant_id = r.merchant_id) > 1), "
    "(SELECT count(*) FROM approval_requests WHERE expense_id IS NOT NULL)"
)


async def test_expenses_may_lose_their_employee_and_nothing_hanging_off_them_is_lost(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await import_company(create_session_factory(engine), copy_valid(tmp_path / "acme"))
    await execute(
        database_url,
        "INSERT INTO expense_dimensions (expense_id, name, company_id, value) "
        "SELECT id, 'fund', company_id, 'GF01' FROM expenses WHERE ref = 'E-001'",
    )
    before = await raw(database_url, HANGING)
    assert before[0][1:] != (0, 0, 0)  # something hangs off the expenses to lose

    await migrate(database_url, "0014", down=True)
    assert await raw(database_url, HANGING) == before
    await migrate(database_url, "head")
    assert await raw(database_url, HANGING) == before

    await execute(database_url, "UPDATE expenses SET employee_id = NULL WHERE ref = 'E-012'")
    with pytest.raises(CommandError, match="1 expense\\(s\\) have no employee"):
        await migrate(database_url, "0014", down=True)
    assert await raw(database_url, "SELECT count(*) FROM expenses WHERE employee_id IS NULL") == [(1,)]

"""Migration 0026 gives the companies imported before it the charges alone at their (team, merchant) in
repeat_charges, the same rows a new import's rebuild writes, and its downgrade takes exactly those away."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import import_company
from tests.importer.conftest import copy_valid
from tests.world import migrate, raw

pytestmark = pytest.mark.anyio

ROWS = "SELECT expense_id, company_id, team_id, merchant_id, spent_on, amount_minor FROM repeat_charges"
SINGLES = """
    SELECT count(*) FROM repeat_charges AS r WHERE (
        SELECT count(*) FROM expenses AS e
        WHERE e.company_id = r.company_id AND e.team_id = r.team_id AND e.merchant_id = r.merchant_id) = 1"""


async def test_the_migration_writes_what_an_import_writes(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await import_company(create_session_factory(engine), copy_valid(tmp_path / "acme"))
    rebuilt = sorted(await raw(database_url, ROWS))
    singles = (await raw(database_url, SINGLES))[0][0]
    assert singles > 0  # the sample company has one-off charges for the migration to restore

    await migrate(database_url, "0025", down=True)
    assert len(await raw(database_url, ROWS)) == len(rebuilt) - singles
    assert (await raw(database_url, SINGLES))[0][0] == 0

    await migrate(database_url, "head")
    assert sorted(await raw(database_url, ROWS)) == rebuilt

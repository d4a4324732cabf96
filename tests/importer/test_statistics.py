"""After an import, PostgreSQL has statistics for every table the import wrote: without them the planner
takes the row-security filter for a handful of rows and plans a large company's searches in nested loops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from server.importer.service import ANALYZED
from tests.importer.conftest import copy_valid
from tests.importer.edits import add_columns

pytestmark = pytest.mark.anyio


@pytest.fixture
def postgres_url(make_database: Callable[[str], str]) -> str:
    return make_database("postgresql")


async def test_every_table_an_import_writes_has_fresh_statistics(postgres_url: str, tmp_path: Path) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            before = await _row_counts(connection)
        folder = copy_valid(tmp_path / "acme")
        add_columns("expenses.csv", {"dim_fund": {"E-001": "GF01"}})(folder)  # expense_dimensions too
        await import_company(create_session_factory(engine), folder)
        async with engine.connect() as connection:
            written = {
                table for table, rows in (await _row_counts(connection)).items() if rows > before[table]
            }
            analyzed = set(
                await connection.scalars(
                    text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
                )
            )
    finally:
        await engine.dispose()
    assert written, "the import wrote nothing"
    assert written - {"data_changes"} <= analyzed
    assert set(ANALYZED) <= analyzed


async def _row_counts(connection: AsyncConnection) -> dict[str, int]:
    tables = (await connection.scalars(text("SELECT relname FROM pg_stat_user_tables"))).all()
    return {
        table: int(await connection.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0) for table in tables
    }

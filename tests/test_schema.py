"""The migrations build the schema the models describe, on both backends: columns, types, keys, unique
constraints, indexes and foreign keys (with the composite references of migration 0013)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from server.db.engine import create_engine
from server.db.models import Base

pytestmark = pytest.mark.anyio


# Indexes on expressions: SQLite's cannot be reflected and PostgreSQL gives back its own spelling of the
# expression, so autogenerate would always see them differ; test_expression_indexes checks them instead.
EXPRESSION_INDEXES = {"ix_expenses_company_receipt_key": "lower(trim(receipt_id))"}


def _compared(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    # procrastinate's own tables (migration 0020) are the queue's, not the models'.
    if kind == "table" and (name or "").startswith("procrastinate_"):
        return False
    return not (kind == "index" and name in EXPRESSION_INDEXES)


def differences(connection: Connection) -> list[Any]:
    opts = {"compare_type": True, "include_object": _compared}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_expression_indexes(database_url: str) -> None:
    """Each expression index exists on its table with its expression (spaces and case aside)."""
    engine = create_engine(database_url)
    query = (
        "SELECT indexname, indexdef FROM pg_indexes"
        if engine.dialect.name == "postgresql"
        else "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
    )
    try:
        async with engine.connect() as connection:
            found = {
                name: sql for name, sql in await connection.execute(text(query)) if name in EXPRESSION_INDEXES
            }
    finally:
        await engine.dispose()
    assert set(found) == set(EXPRESSION_INDEXES)
    for name, expression in EXPRESSION_INDEXES.items():
        definition = "".join(found[name].lower().split()).replace("trim(bothfrom", "trim(")
        assert "".join(expression.split()) in definition, found[name]

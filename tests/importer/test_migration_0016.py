"""Migration 0016 adds the expense policies and the expenses' card, receipt id and country in place, and
its downgrade takes them away keeping every expense; on PostgreSQL the tool-call role reads the policies,
under the tenant policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import import_company
from server.settings import Settings
from tests.importer.conftest import copy_valid
from tests.importer.test_expense_policy import CARDS, policy
from tests.world import migrate, raw, schema

pytestmark = pytest.mark.anyio

NEW_COLUMNS = {"card", "receipt_id", "country"}


async def expense_columns(url: str) -> set[str]:
    return {c["name"] for c in await schema(url, lambda inspector: inspector.get_columns("expenses"))}


async def test_down_and_up_again_keeps_every_expense(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    folder = copy_valid(tmp_path / "acme")
    CARDS(folder)
    policy({"rules": [{"id": "receipts", "kind": "receipt_required", "above": "25"}]})(folder)
    await import_company(create_session_factory(engine), folder)
    expenses = await raw(database_url, "SELECT ref, amount_minor FROM expenses ORDER BY ref")

    await migrate(database_url, "0015", down=True)
    tables = await schema(database_url, lambda inspector: inspector.get_table_names())
    assert ("expense_policies" in tables, NEW_COLUMNS & await expense_columns(database_url)) == (False, set())
    assert await raw(database_url, "SELECT ref, amount_minor FROM expenses ORDER BY ref") == expenses

    await migrate(database_url, "head")
    assert await expense_columns(database_url) >= NEW_COLUMNS
    assert await raw(database_url, "SELECT count(*) FROM expenses WHERE card IS NOT NULL") == [(0,)]
    assert await raw(database_url, "SELECT count(*) FROM expense_policies") == [(0,)]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_tool_call_role_reads_the_policies_and_writes_none(database_url: str) -> None:
    role = Settings().tenant_role
    rights = await raw(
        database_url,
        "SELECT has_table_privilege(:role, 'expense_policies', 'SELECT'), "
        "has_table_privilege(:role, 'expense_policies', 'INSERT'), relrowsecurity, relforcerowsecurity "
        "FROM pg_class WHERE relname = 'expense_policies'",
        role=role,
    )
    assert rights == [(True, False, True, True)]

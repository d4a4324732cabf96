"""Migration 0013 makes every reference between tenant tables composite, (company_id, x_id), on a database
full of rows: every row is kept on both backends (on SQLite each table is rebuilt, which must not cascade
into the rows that reference it), and the downgrade puts the single-column references back. A database
that already holds a cross-company reference is refused before anything changes, naming the rows."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.util import CommandError

from server.db.engine import create_engine
from server.db.migrate import current_revision, head_revision
from server.db.models import Base
from tests.world import execute, migrate, raw, schema, seed_world

pytestmark = pytest.mark.anyio

TENANT_TABLES = sorted(name for name, table in Base.metadata.tables.items() if "company_id" in table.c)


async def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every tenant row, in a stable order (of the tables the database has at its revision: later ones
    add some)."""
    there = set(await schema(url, lambda inspector: inspector.get_table_names()))
    return {
        table: sorted(await raw(url, f"SELECT * FROM {table}"), key=repr)
        for table in TENANT_TABLES
        if table in there
    }


async def references(url: str, table: str) -> dict[str, tuple[list[str], list[str]]]:
    """The foreign keys of `table` to other tenant tables: name -> (columns, referred columns)."""
    found = await schema(url, lambda inspector: inspector.get_foreign_keys(table))
    return {
        fk["name"] or "": (fk["constrained_columns"], fk["referred_columns"])
        for fk in found
        if fk["referred_table"] != "companies"
    }


async def revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def test_references_become_composite_and_back_and_every_row_is_kept(database_url: str) -> None:
    await seed_world(database_url)  # with the models' columns, so at head, then taken back to before 0013
    await migrate(database_url, "0012", down=True)
    rows = await snapshot(database_url)
    assert all(rows[table] for table in ("expense_dimensions", "repeat_charges", "approval_decisions"))

    await migrate(database_url, "0013")
    assert await snapshot(database_url) == rows
    assert await references(database_url, "expenses") == {
        "fk_expenses_merchant_id_merchants": (["company_id", "merchant_id"], ["company_id", "id"]),
        "fk_expenses_employee_id_employees": (["company_id", "employee_id"], ["company_id", "id"]),
        "fk_expenses_team_id_teams": (["company_id", "team_id"], ["company_id", "id"]),
        "fk_expenses_category_id_categories": (["company_id", "category_id"], ["company_id", "id"]),
    }

    await migrate(database_url, "0012", down=True)
    try:
        assert await snapshot(database_url) == rows
        assert await references(database_url, "expenses") == {
            "fk_expenses_merchant_id_merchants": (["merchant_id"], ["id"]),
            "fk_expenses_employee_id_employees": (["employee_id"], ["id"]),
            "fk_expenses_team_id_teams": (["team_id"], ["id"]),
            "fk_expenses_category_id_categories": (["category_id"], ["id"]),
        }
        await migrate(database_url, "0013")
        assert await snapshot(database_url) == rows
    finally:
        await migrate(database_url, "head")


async def test_a_cross_company_reference_already_there_is_refused_and_named(database_url: str) -> None:
    await seed_world(database_url)
    await migrate(database_url, "0012", down=True)
    [(acme,)] = await raw(database_url, "SELECT id FROM companies WHERE slug = 'acme'")
    [(theirs,)] = await raw(
        database_url, "SELECT MIN(id) FROM categories WHERE company_id <> :acme", acme=acme
    )
    [(expense, ours)] = await raw(
        database_url,
        "SELECT id, category_id FROM expenses WHERE company_id = :acme AND ref = 'EXP-000001'",
        acme=acme,
    )
    await execute(
        database_url,
        "UPDATE expenses SET category_id = :theirs WHERE id = :expense",
        theirs=theirs,
        expense=expense,
    )
    rows = await snapshot(database_url)

    with pytest.raises(CommandError) as refused:
        await migrate(database_url, "head")
    named = f"- expenses.category_id -> categories: 1 row(s): id={expense} of company {acme} -> id={theirs} "
    assert named in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert await revision(database_url) == "0012"
    assert await snapshot(database_url) == rows

    await execute(
        database_url,
        "UPDATE expenses SET category_id = :ours WHERE id = :expense",
        ours=ours,
        expense=expense,
    )
    await migrate(database_url, "head")
    assert await revision(database_url) == head_revision()

"""Tenant isolation in depth on PostgreSQL: inside a tool call, a query that forgets its company filter
still sees only the caller's company; without a company it sees nothing; the tool-call role may write
only what categorize_expenses writes. SQLite has no row security (the query filters are the only line)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.calls import call_scope
from server.context import AppContext
from server.db.models import Base
from server.runtime import Runtime
from server.settings import Settings
from tests.world import raw

# Row security is PostgreSQL's: the shared two-company world on that backend only.
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("seeded_url", ["postgresql"], indirect=True)]

# Tables that both companies of the test world have rows in.
SEEDED = [
    "expenses",
    "employees",
    "teams",
    "categories",
    "merchants",
    "budgets",
    "team_daily_spend",
    "spend_monthly",
    "merchant_monthly",
    "employee_monthly",
    "expense_dimensions",
]


@pytest.fixture
async def app(seeded_url: str, anyio_backend: str) -> AsyncIterator[AppContext]:
    async with Runtime(Settings(database_url=seeded_url), local_company="acme").open() as app:
        yield app


async def company_id(url: str, slug: str) -> int:
    [(found,)] = await raw(url, "SELECT id FROM companies WHERE slug = :slug", slug=slug)
    return int(found)


async def companies_seen(session: AsyncSession, table: str) -> set[int]:
    # Deliberately unfiltered: what row security lets through is all this query can see.
    return set((await session.scalars(text(f"SELECT company_id FROM {table}"))).all())


async def test_an_unfiltered_query_in_a_tool_call_sees_only_the_callers_company(
    app: AppContext, seeded_url: str
) -> None:
    acme, globex = await company_id(seeded_url, "acme"), await company_id(seeded_url, "globex")
    for table in SEEDED:  # both companies are there for a query that does not run as a tool call
        assert {acme, globex} <= {row[0] for row in await raw(seeded_url, f"SELECT company_id FROM {table}")}

    async with call_scope(app, "tool", "probe") as scope:
        for table in SEEDED:
            assert await companies_seen(scope.session, table) == {acme}, table
        assert set((await scope.session.scalars(text("SELECT id FROM companies"))).all()) == {acme}
        assert await scope.session.scalar(text("SELECT current_user")) == app.settings.tenant_role


async def test_the_tool_call_role_without_a_company_sees_nothing(app: AppContext) -> None:
    async with app.sessions() as session, session.begin():
        await session.execute(text(f"SET LOCAL ROLE {app.settings.tenant_role}"))
        for table in [*SEEDED, "companies"]:
            assert (await session.scalar(text(f"SELECT COUNT(*) FROM {table}"))) == 0, table


async def test_a_tool_call_cannot_write_another_companys_rows_nor_what_no_tool_writes(
    app: AppContext, seeded_url: str
) -> None:
    globex = await company_id(seeded_url, "globex")
    async with call_scope(app, "tool", "probe") as scope:
        moved = await scope.session.execute(
            text("UPDATE expenses SET category_id = NULL WHERE company_id = :c"), {"c": globex}
        )
        assert moved.rowcount == 0  # type: ignore[attr-defined]  # a CursorResult
    with pytest.raises(DBAPIError, match="permission denied"):
        async with call_scope(app, "tool", "probe") as scope:
            await scope.session.execute(text("UPDATE expenses SET amount_minor = 0"))
    with pytest.raises(DBAPIError, match="permission denied"):
        async with call_scope(app, "tool", "probe") as scope:
            await scope.session.execute(text("DELETE FROM budgets"))
    with pytest.raises(DBAPIError, match="permission denied"):
        async with call_scope(app, "tool", "probe") as scope:
            await scope.session.execute(text("UPDATE expense_dimensions SET value = 'X'"))


async def test_every_tenant_table_is_under_forced_row_security(app: AppContext) -> None:
    tenant_tables = {t.name for t in Base.metadata.sorted_tables if "company_id" in t.c} | {"companies"}
    async with app.sessions() as session:
        rows = await session.execute(
            text("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(:t)"),
            {"t": sorted(tenant_tables)},
        )
        secured = {name: (enabled, forced) for name, enabled, forced in rows}
    assert secured == dict.fromkeys(tenant_tables, (True, True))

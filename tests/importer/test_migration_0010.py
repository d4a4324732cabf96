"""Migration 0010 adds companies.country (none for the companies already there) and its downgrade drops
it again on both backends, without touching the tables that reference companies."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.db.engine import create_engine
from tests.world import migrate, raw

pytestmark = pytest.mark.anyio


async def test_companies_get_a_country_column_and_lose_it_on_downgrade(database_url: str) -> None:
    await migrate(database_url, "0009", down=True)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO companies (id, slug, name, currency, created_at) "
                    "VALUES (1, 'acme', 'Acme', 'EUR', :at)"
                ),
                {"at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
            )
            await connection.execute(text("INSERT INTO teams (company_id, name) VALUES (1, 'Sales')"))
    finally:
        await engine.dispose()

    await migrate(database_url, "head")
    assert await raw(database_url, "SELECT slug, country FROM companies") == [("acme", None)]

    await migrate(database_url, "0009", down=True)
    assert await raw(database_url, "SELECT slug FROM companies") == [("acme",)]
    assert await raw(database_url, "SELECT name FROM teams") == [("Sales",)]
    with pytest.raises(DBAPIError, match="country"):
        await raw(database_url, "SELECT country FROM companies")
    await migrate(database_url, "head")  # and up again, for the session's teardown

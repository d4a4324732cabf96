"""company.csv's optional country: stored upper-cased with the company (whose public holidays forecasts
expect), none when the column or the cell is left out. Bad codes: tests/importer/test_problems.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.db.models import Company
from server.importer import import_company
from tests.importer.edits import write

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("cell", "stored"), [("GB", "GB"), ("us", "US"), ("", None)])
async def test_the_country_is_stored_with_the_company(
    folder: Path, engine: AsyncEngine, cell: str, stored: str | None
) -> None:
    write("company.csv", f"slug,name,currency,country\nacme,Acme Robotics GmbH,EUR,{cell}\n")(folder)

    await import_company(create_session_factory(engine), folder)

    async with engine.connect() as connection:
        assert (await connection.scalar(select(Company.country))) == stored


async def test_without_the_column_the_company_has_no_country(folder: Path, engine: AsyncEngine) -> None:
    await import_company(create_session_factory(engine), folder)

    async with engine.connect() as connection:
        assert (await connection.scalar(select(Company.country))) is None

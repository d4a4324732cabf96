"""Fixtures for the importer tests: the valid fixture folder, editable copies of it, databases.

`anyio_backend`, `backend`, `database_url` and `make_database` come from tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_engine, create_session_factory
from server.importer import import_company

VALID = Path(__file__).parent / "fixtures" / "valid"
OTHER_SLUG = "globex"  # the company already in `globex_url` databases


def copy_valid(destination: Path, *, slug: str = "acme") -> Path:
    """A copy of the valid fixture folder, with the company's slug set to `slug`."""
    shutil.copytree(VALID, destination)
    company = destination / "company.csv"
    company.write_text(company.read_text().replace("acme,", f"{slug},", 1))
    return destination


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An editable copy of the valid folder (company 'acme')."""
    return copy_valid(tmp_path / "acme")


async def _import(url: str, folder: Path) -> None:
    engine = create_engine(url)
    try:
        await import_company(create_session_factory(engine), folder)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def globex_url(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """A database shared by a module's tests that already holds company 'globex'. Tests that use it
    must leave it unchanged (they are failing imports)."""
    url = make_database(str(request.param))
    asyncio.run(_import(url, copy_valid(tmp_path_factory.mktemp("seed") / OTHER_SLUG, slug=OTHER_SLUG)))
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def globex_engine(globex_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(globex_url)
    yield engine
    await engine.dispose()

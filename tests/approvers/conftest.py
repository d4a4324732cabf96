"""Fixtures for the approvers tests: Northwind (tests/approvers/fixtures/northwind), imported through
`outlay import`'s code into a database per backend and served to an in-memory MCP client.

`anyio_backend`, `make_database`, `servers` and `mode` come from tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from mcp import Client
from mcp.server import MCPServer

from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from tests.conftest import BACKENDS
from tests.world import connect

NORTHWIND = Path(__file__).parent / "fixtures" / "northwind"


async def import_folder(url: str, folder: Path) -> None:
    engine = create_engine(url)
    try:
        await import_company(create_session_factory(engine), folder)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def northwind_url(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    url = make_database(str(request.param))
    asyncio.run(import_folder(url, NORTHWIND))
    return url


@pytest.fixture
async def northwind(
    servers: Callable[[str, str], MCPServer[AppContext]], northwind_url: str, mode: str, anyio_backend: str
) -> AsyncIterator[Client]:
    """Northwind's server (today pinned to 2026-07-20, like tests/world.py) in one protocol era."""
    async with connect(servers(northwind_url, "northwind"), mode) as client:
        yield client


@pytest.fixture
async def nw(database_url: str) -> str:
    """A fresh Northwind for one test that writes (on each backend)."""
    await import_folder(database_url, NORTHWIND)
    return database_url


SOUTHWIND_POLICY = (
    '{"rules": [{"name": "Over 1,000 EUR: manager", "when": {"amount_over": "1000"}, '
    '"steps": ["team_manager"]}]}'
)
SOUTHWIND_OPEN = "S-1,rep@nw.test,Sales,MEALS,3000.00,EUR,2026-07-19T09:00:00+00:00,pending,,,,"


@pytest.fixture
async def nw_and_sw(nw: str, tmp_path: Path) -> str:
    """Northwind and Southwind (a copy: the same e-mails and request ids, another policy and an open
    request S-1 waiting on Sam) in one database."""
    south = Path(shutil.copytree(NORTHWIND, tmp_path / "southwind"))
    (south / "company.csv").write_text("slug,name,currency\nsouthwind,Southwind Traders,EUR\n")
    (south / "approval_policy.json").write_text(SOUTHWIND_POLICY)
    with (south / "approval_history.csv").open("a", encoding="utf-8") as history:
        history.write(SOUTHWIND_OPEN + "\n")
    await import_folder(nw, south)
    return nw

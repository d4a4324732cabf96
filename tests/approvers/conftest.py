"""Fixtures for the approvers tests: Northwind (tests/approvers/fixtures/northwind), imported through
`outlay import`'s code into a database per backend and served to an in-memory MCP client.

`anyio_backend`, `make_database`, `servers` and `mode` come from tests/conftest.py.
"""

from __future__ import annotations

import asyncio
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

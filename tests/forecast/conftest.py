"""The synthetic company (evals/datasets/synthetic.py) imported with the real importer, once per backend,
next to a second synthetic company that must never show through; and in-memory MCP clients on it.

`anyio_backend` and `make_database` come from tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from mcp import Client
from mcp.server import MCPServer
from pydantic import SecretStr

from evals.datasets.synthetic import SyntheticTruth, write_synthetic_company
from server.app import build_server
from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from server.settings import Settings
from tests.conftest import BACKENDS, MODES
from tests.world import CURSOR_SECRET, connect

TODAY = dt.date(2026, 7, 20)  # a Monday, three weeks into Q3: Q2 is closed, Q4 and 2027 still to come
SLUG = "synthco"
OTHER = "othco"  # the other company in the same database: a year of history, other levels
_IMPORTED = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, SyntheticTruth]]:
    root = tmp_path_factory.mktemp("synthetic")
    return {
        slug: (root / slug, write_synthetic_company(root / slug, today=TODAY, slug=slug, **options))
        for slug, options in ((SLUG, {}), (OTHER, {"months": 12, "seed": 5}))
    }


@pytest.fixture(scope="session")
def truth(folders: dict[str, tuple[Path, SyntheticTruth]]) -> SyntheticTruth:
    return folders[SLUG][1]


@pytest.fixture(scope="session", params=BACKENDS)
def synthetic_url(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    folders: dict[str, tuple[Path, SyntheticTruth]],
) -> str:
    """Both synthetic companies, imported once per backend (cached like `seeded_url`)."""
    imported = request.config.stash.setdefault(_IMPORTED, {})
    backend = str(request.param)
    if backend not in imported:
        imported[backend] = make_database(backend)
        asyncio.run(_import(imported[backend], [folder for folder, _ in folders.values()]))
    return imported[backend]


async def _import(url: str, folders: list[Path]) -> None:
    engine = create_engine(url)
    try:
        for folder in folders:
            await import_company(create_session_factory(engine), folder)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def synthetic_servers() -> Callable[[str, str], MCPServer[AppContext]]:
    """Built once per database and company, as `servers` does; today pinned to TODAY."""
    built: dict[tuple[str, str], MCPServer[AppContext]] = {}

    def server(url: str, company: str) -> MCPServer[AppContext]:
        if (url, company) not in built:
            settings = Settings(
                database_url=url, company=company, today=TODAY, cursor_secret=SecretStr(CURSOR_SECRET)
            )
            built[url, company] = build_server(settings, local_company=company)
        return built[url, company]

    return server


@pytest.fixture(scope="session", params=MODES)
def era(request: pytest.FixtureRequest) -> str:
    """The protocol era of the clients below (tests/conftest.py `mode`, at session scope)."""
    return str(request.param)


# One connection per backend and era for the whole session, unlike the other tool tests: a connection's
# lifespan computes the company's forecast calibration (hundreds of model fits) on its first call, and
# the tests here only read (one adds a budget for 2027 and removes it; calibrations ignore budgets).
@pytest.fixture(scope="session")
async def synthco(
    synthetic_servers: Callable[[str, str], MCPServer[AppContext]],
    synthetic_url: str,
    era: str,
    anyio_backend: str,
) -> AsyncIterator[Client]:
    async with connect(synthetic_servers(synthetic_url, SLUG), era) as client:
        yield client


@pytest.fixture(scope="session")
async def othco(
    synthetic_servers: Callable[[str, str], MCPServer[AppContext]],
    synthetic_url: str,
    era: str,
    anyio_backend: str,
) -> AsyncIterator[Client]:
    async with connect(synthetic_servers(synthetic_url, OTHER), era) as client:
        yield client

"""A small, realistic company with a trained categorizer, imported the way `outlay import` does it.

The demo generator writes it (12 people, six months, a three-week uncategorized backlog); it is
imported and trained once per backend for the read-only tests, and afresh for each test that writes.
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

from server.app import build_server
from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from server.demo import write_demo_company
from server.importer import import_company
from server.settings import Settings
from tests.world import connect
from tools.categorize.commands import train_if_missing

TODAY = dt.date(2026, 6, 30)
_TRAINED = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small-demo")
    write_demo_company(folder, seed=3, employees=12, months=6, today=TODAY, review_cases=False)
    return folder


async def load_and_train(url: str, folder: Path) -> None:
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        report = await import_company(sessions, folder, actor="test")
        await train_if_missing(sessions, report.company_slug)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def trained_url(
    request: pytest.FixtureRequest, make_database: Callable[[str], str], demo_folder: Path
) -> str:
    """Read-only tests share this database (per backend): the small demo company, trained."""
    trained = request.config.stash.setdefault(_TRAINED, {})
    backend = str(request.param)
    if backend not in trained:
        trained[backend] = make_database(backend)
        asyncio.run(load_and_train(trained[backend], demo_folder))
    return trained[backend]


@pytest.fixture
def fresh_url(make_database: Callable[[str], str], backend: str, demo_folder: Path) -> str:
    """A database of its own, for a test that writes."""
    url = make_database(backend)
    asyncio.run(load_and_train(url, demo_folder))
    return url


def server_for(url: str, **settings: object) -> MCPServer[AppContext]:
    base = Settings(
        database_url=url, company="acme", today=TODAY, cursor_secret=SecretStr("categorize-tests")
    )
    return build_server(base.model_copy(update=settings), local_company="acme")


@pytest.fixture
async def acme_books(trained_url: str, mode: str, anyio_backend: str) -> AsyncIterator[Client]:
    async with connect(server_for(trained_url), mode) as client:
        yield client

"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: `OUTLAY_TEST_POSTGRES_URL` (default: the local server, user postgres). Each test session
creates its own uniquely named databases and drops them, so concurrent runs cannot interfere. When the
server is unreachable the PostgreSQL tests are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from mcp import Client
from mcp.server import MCPServer
from sqlalchemy.engine import make_url

from server.context import AppContext
from server.db.engine import libpq_url
from server.db.migrate import upgrade
from tests.world import build, connect, seed_world

BACKENDS = ["sqlite", "postgresql"]
MODES = ["auto", "legacy"]
_SEEDED = pytest.StashKey[dict[str, str]]()
POSTGRES_URL = os.environ.get(
    "OUTLAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _admin_dsn() -> str:
    return libpq_url(POSTGRES_URL)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


_DROP = """
import asyncio, os, sys
import asyncpg

if os.fork():  # the parent returns at once; the child, reparented, drops
    os._exit(0)

async def drop(dsn, names):
    connection = await asyncpg.connect(dsn)
    for name in names:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

asyncio.run(drop(sys.argv[1], sys.argv[2:]))
"""


def _drop_after_the_session(names: list[str]) -> None:
    """Drop the session's databases in a process of their own that outlives pytest: each DROP DATABASE
    waits for a checkpoint (about a second, several under load), which the suite need not wait for."""
    if names:
        subprocess.run(
            [sys.executable, "-c", _DROP, _admin_dsn(), *names],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            check=True,
        )


def _postgres_or_skip() -> None:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")


@pytest.fixture(scope="session")
def make_unmigrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Factory: a fresh database with no schema at all on the given backend (for SQLite: an empty
    file); dropped at session end."""
    created: list[str] = []

    def make(backend: str) -> str:
        name = f"outlay_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            path = Path(tmp_path_factory.mktemp("db")) / f"{name}.db"
            path.touch()
            return f"sqlite+aiosqlite:///{path}"
        _postgres_or_skip()
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    _drop_after_the_session(created)


@pytest.fixture(scope="session")
def make_database(
    make_unmigrated_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Factory: a fresh, migrated, empty database on the given backend; dropped at session end.

    The migrations run once per backend and session, into a template each database is then copied from
    (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL): migrating each of the suite's
    hundreds of databases anew cost 0.4-1.6 s apiece once 0013 rebuilt SQLite's tables. The tests of a
    migration still run it (`tests/world.py` `migrate()`)."""
    templates: dict[str, str] = {}
    created: list[str] = []

    def make(backend: str) -> str:
        if backend not in templates:
            templates[backend] = make_unmigrated_database(backend)
            upgrade(templates[backend])  # its engine is disposed: nobody is connected to the template
        template = make_url(templates[backend])
        name = f"outlay_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            path = Path(tmp_path_factory.mktemp("db")) / f"{name}.db"
            shutil.copyfile(str(template.database), path)  # closed, so checkpointed: no -wal to copy
            return f"sqlite+aiosqlite:///{path}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"'))
        created.append(name)
        return template.set(database=name).render_as_string(hide_password=False)

    yield make
    _drop_after_the_session(created)


@pytest.fixture
def missing_database_url(backend: str, tmp_path: Path) -> str:
    """A database URL that names nothing yet: a file in a folder that does not exist, or a PostgreSQL
    database never created."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'absent' / 'outlay.db'}"
    _postgres_or_skip()
    name = f"outlay_missing_{uuid.uuid4().hex[:12]}"
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(make_database: Callable[[str], str], backend: str) -> str:
    """A fresh migrated database for one test (for tests that write)."""
    return make_database(backend)


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    """Read-only tests share this two-company database (tests/world.py), seeded once per backend.

    Cached on the pytest config: pytest may set a session fixture up again when test order switches
    parameters, and seeding twice would only cost time.
    """
    return seeded_once(request, make_database, _SEEDED, seed_world)


def seeded_once(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    key: pytest.StashKey[dict[str, str]],
    seed: Callable[[str], Coroutine[Any, Any, object]],
) -> str:
    """The database `seed` filled for the backend `request.param`, made once per session and `key`."""
    seeded = request.config.stash.setdefault(key, {})
    backend = str(request.param)
    if backend not in seeded:
        seeded[backend] = make_database(backend)
        asyncio.run(seed(seeded[backend]))
    return seeded[backend]


@pytest.fixture(scope="session")
def servers() -> Callable[[str, str], MCPServer[AppContext]]:
    """Servers are built once per database and company (registering the tools costs more than a call);
    every test still gets its own connection, which runs the server's lifespan anew."""
    built: dict[tuple[str, str], MCPServer[AppContext]] = {}

    def server(url: str, company: str) -> MCPServer[AppContext]:
        if (url, company) not in built:
            built[url, company] = build(url, company)
        return built[url, company]

    return server


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def acme(
    servers: Callable[[str, str], MCPServer[AppContext]], seeded_url: str, mode: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(seeded_url, "acme"), mode) as client:
        yield client


@pytest.fixture
async def globex(
    servers: Callable[[str, str], MCPServer[AppContext]], seeded_url: str, mode: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(seeded_url, "globex"), mode) as client:
        yield client

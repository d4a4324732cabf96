"""Opens and closes what lives as long as the server: engine, sessions, clock, model gateway, keys."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.context import AppContext, Clock, RecentlyUsed
from server.db.engine import create_engine, create_session_factory, sqlite_file
from server.db.tenancy import tenant_role_problem
from server.gateway import ModelGateway
from server.settings import Settings
from server.shared.state import open_shared_state
from server.telemetry.names import CallNames


class SchemaNotReady(RuntimeError):
    """The database is missing migrations; the message says which command to run."""


MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?:: *str)? *= *[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Refuse a database whose schema is not the code's. Every start runs this: the usual case (up to
    date) is answered from the migration files' ids and one query, because importing Alembic costs
    0.1-0.2 s; anything else is left to Alembic, which also words the message. A database that is not
    there is refused before anything connects: SQLite would create an empty file on the way."""
    if (path := sqlite_file(engine.url)) is not None and not path.exists():
        raise SchemaNotReady(
            f"The database file {path} does not exist. Run `outlay db upgrade` to create it "
            "(or set OUTLAY_DATABASE_URL to the database you meant)."
        )
    try:
        await _check_revision(engine)
    except (DBAPIError, OSError) as exc:
        raise SchemaNotReady(unopenable(engine.url, exc)) from exc


async def _check_revision(engine: AsyncEngine) -> None:
    head = head_revision()
    if head is not None and await stored_revision(engine) == head:
        return
    from server.db.migrate import pending_migration_message

    if problem := await pending_migration_message(engine):
        raise SchemaNotReady(problem)


def unopenable(url: URL, exc: BaseException) -> str:
    """One line on a database that refused the connection or the first query, and what to do next."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    where = url.render_as_string(hide_password=True)
    if "does not exist" in reason:
        return f"Cannot open the database {where}: {reason}. Create it, then run `outlay db upgrade`."
    return f"Cannot open the database {where}: {reason}. Check OUTLAY_DATABASE_URL and that the server runs."


@cache
def head_revision() -> str | None:
    """The one revision no migration builds on, read from the files' plain `revision` and
    `down_revision` lines; None when a file does not state them plainly or there is no single head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in MIGRATIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision[1])
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down[1]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision in Alembic's own table; None without the table or without exactly one row."""
    async with engine.connect() as connection:
        return await connection.run_sync(_stored_revision)


def _stored_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


async def check_schema(database_url: str) -> None:
    """For commands that must refuse an un-migrated database before doing anything else."""
    engine = create_engine(database_url)
    try:
        await ensure_schema(engine)
    finally:
        await engine.dispose()


class Runtime:
    """Owns the application context for one server object.

    The MCP lifespan opens it; plain HTTP routes (`/readyz`) read `current` once it is open.
    """

    def __init__(self, settings: Settings, *, local_company: str | None) -> None:
        self.settings = settings
        self.local_company = local_company
        self.current: AppContext | None = None

    @asynccontextmanager
    async def open(self, *, call_names: CallNames | None = None) -> AsyncIterator[AppContext]:
        engine = create_engine(self.settings.database_url)
        try:
            await ensure_schema(engine)
            if problem := await tenant_role_problem(engine, self.settings.tenant_role):
                raise SchemaNotReady(problem)
            async with open_shared_state(self.settings) as shared:
                gateway = ModelGateway(self.settings.gateway, budget=shared.budget, cache=shared.cache)
                try:
                    self.current = AppContext(
                        settings=self.settings,
                        engine=engine,
                        sessions=create_session_factory(engine),
                        clock=Clock(self.settings.today),
                        gateway=gateway,
                        shared=shared,
                        local_company=self.local_company,
                        call_names=call_names or CallNames(),
                        reviews=RecentlyUsed(capacity=self.settings.review_cache_entries, max_age=300.0),
                    )
                    yield self.current
                finally:
                    self.current = None
                    await gateway.aclose()
        finally:
            await engine.dispose()

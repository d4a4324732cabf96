"""Schema migrations (Alembic), driven from code so `outlay db upgrade` needs no alembic.ini."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import sqlite_file

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def upgrade(url: str) -> None:
    """Bring the database at `url` to the latest schema (runs its own event loop: call from sync code).
    The one command that creates a SQLite file, and its folder, when they are not there yet."""
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


async def revision_before_upgrade(url: str) -> str | None:
    """The revision of the database at `url` as it is, None when it has no schema yet (or, for SQLite,
    no file: which this does not create)."""
    from server.db.engine import create_engine

    if (path := sqlite_file(url)) is not None and not path.exists():
        return None
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revision)


async def pending_migration_message(engine: AsyncEngine) -> str | None:
    """None when the schema is current, else what to tell the operator."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return None
    state = "has no Outlay schema" if current is None else f"is at revision {current}, code expects {head}"
    where = engine.url.render_as_string(hide_password=True)
    return f"The database {where} {state}. Run `outlay db upgrade` first."

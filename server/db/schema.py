"""The full schema check, through SQLAlchemy (and Alembic when a migration is missing): for the commands
that open an engine anyway, and for `outlay serve` when the quick one (`server.db.readiness`) cannot
tell that the database is ready. It words every refusal."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_engine, sqlite_file
from server.db.readiness import SchemaNotReady, head_revision


async def ensure_schema(engine: AsyncEngine) -> None:
    """Refuse a database whose schema is not the code's. The usual case (up to date) is answered from
    the migration files' ids and one query, because importing Alembic costs 0.1-0.2 s; anything else is
    left to Alembic, which also words the message. A database that is not there is refused before
    anything connects: SQLite would create an empty file on the way."""
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

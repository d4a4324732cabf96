"""Engine and session factory for either backend, with the same behaviour on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names, as SQLite opens it (no `~` expanded); None for another backend, an
    in-memory database or a `uri=true` one (whose `file:` name SQLite itself reads)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if parsed.query.get("uri") else Path(str(parsed.database))


def libpq_url(url: str, *, database: str | None = None) -> str:
    """A PostgreSQL URL as asyncpg.connect and libpq take it (no `+asyncpg`), optionally another database
    on the same server."""
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed if database is None else parsed.set(database=database)).render_as_string(
        hide_password=False
    )


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        # The file is created on first connect, which only `outlay db upgrade` should do
        # (`server.db.schema.ensure_schema` refuses a missing file before anything connects).
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # No pre-ping (BEGIN, a query, ROLLBACK on every checkout: three round trips of the ten a point lookup
    # made): a call retries its first statement on a connection found dead instead
    # (`server.calls._scoped_transaction`), and so does the audit row (`server.audit.trail.append`). LIFO: the
    # audit row goes out on the connection its call has just given back.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Enforce foreign keys like PostgreSQL does; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# asyncpg prepares every statement; after five runs PostgreSQL may switch a prepared statement to a generic
# plan, costed without the parameters' values. For a GROUP BY over a period of expenses that plan expects a
# default share of the rows (8,660 instead of 594,741 for a year of the 1.7 M-expense company) and drops the
# parallel scan (222 -> 286-410 ms). Planning each run costs well under a millisecond.
_CUSTOM_PLANS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")


async def plan_each_run(session: AsyncSession) -> None:
    """For the rest of the transaction, PostgreSQL plans each statement for its parameters' values (no
    generic plans): for the statements whose best plan depends on them, such as a period's length."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_CUSTOM_PLANS)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)

"""Whether a database is ready to serve: its schema is the code's (the migrations' head revision) and,
on PostgreSQL, the server's user may switch to the tool-call role.

`outlay serve` asks before it answers anything, so it must be cheap: the usual case (ready) is one
connection and one query through the driver (asyncpg, or the standard library's sqlite3), without
SQLAlchemy or the ORM models, which load with the first call (~0.35 s of CPU a client waiting for
`tools/list` would otherwise pay). Anything else goes to the full check (`server.db.schema`), which
imports SQLAlchemy (and Alembic when a migration is missing) and words the refusal.
"""

from __future__ import annotations

import re
from contextlib import closing
from functools import cache
from pathlib import Path


class SchemaNotReady(RuntimeError):
    """The database cannot serve: it is missing, unreachable, behind the code's migrations, or its user may
    not take the tool-call role. The message says which command to run or what to fix."""


MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?:: *str)? *= *[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)
# The stored revisions and the tool-call role (whether it exists, whether the user may switch to it).
_POSTGRES_STATE = (
    "SELECT (SELECT array_agg(version_num) FROM alembic_version), r.rolname IS NOT NULL,"
    " COALESCE(pg_has_role(current_user, r.oid, 'MEMBER'), false)"
    " FROM (SELECT 1) AS one LEFT JOIN pg_roles AS r ON r.rolname = $1"
)


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


async def check_serving(database_url: str, tenant_role: str) -> None:
    """Raise `SchemaNotReady` with one line on what to do unless the database can serve tool calls."""
    if await _plainly_ready(database_url, tenant_role):
        return
    from server.db.engine import create_engine
    from server.db.schema import ensure_schema
    from server.db.tenancy import tenant_role_problem

    engine = create_engine(database_url)
    try:
        await ensure_schema(engine)
        if problem := await tenant_role_problem(engine, tenant_role):
            raise SchemaNotReady(problem)
    finally:
        await engine.dispose()


async def _plainly_ready(url: str, role: str) -> bool:
    """True when a plain URL (no query options, which only SQLAlchemy reads) names a database at the head
    revision whose user may take the tool-call role; False for anything else, left to the full check."""
    scheme, _, rest = url.partition("://")
    head = head_revision()
    if head is None or "?" in rest:
        return False
    try:
        if scheme in ("postgresql+asyncpg", "postgresql"):
            return await _postgres_ready(f"postgresql://{rest}", head, role)
        if scheme in ("sqlite+aiosqlite", "sqlite"):
            return _sqlite_ready(rest, head)
    except Exception:  # any failure is the full check's to word
        return False
    return False


async def _postgres_ready(dsn: str, head: str, role: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        revisions, role_exists, member = await connection.fetchrow(_POSTGRES_STATE, role)
    finally:
        await connection.close()
    return bool(revisions == [head] and role_exists and member)


def _sqlite_ready(rest: str, head: str) -> bool:
    """`rest` is what follows `sqlite:///`'s `//`: `/relative.db` or `//absolute.db`."""
    import sqlite3  # here: a PostgreSQL server's start-up does without it

    path = rest[1:]
    if path in ("", ":memory:") or not Path(path).is_file():
        return False
    with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as connection:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows == [(head,)]

"""The per-call cost of a point lookup stays what it was measured at (docs/operations.md, "Hot path"):
the caller's company found and entered in one statement, no ping per checkout, one audit statement in
the call's transaction; and
without the ping, a connection the database closed while it idled costs neither the call nor its row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from server.audit.trail import append
from server.db.engine import create_engine, create_session_factory
from server.db.models import utcnow
from tests.world import build, call_error, call_ok, connect, raw

pytestmark = pytest.mark.anyio


@pytest.fixture
async def acme(world_url: str, anyio_backend: str) -> AsyncIterator[Client]:
    async with connect(build(world_url, "acme"), "auto") as client:
        yield client


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement sent to a database while the test runs: through SQLAlchemy, and on PostgreSQL
    through the driver itself (the audit row, `AuditedCall.write_in`), but for BEGIN and COMMIT."""
    sent: list[str] = []

    def on_execute(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    def on_driver_query(record: Any) -> None:  # asyncpg logs only what runs outside SQLAlchemy's statements
        if record.query.split()[0].rstrip(";").upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(" ".join(record.query.split()))

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        if hasattr(driver, "add_query_logger"):
            driver.add_query_logger(on_driver_query)

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Pool, "checkout", on_checkout)
    yield sent
    event.remove(Pool, "checkout", on_checkout)
    event.remove(Engine, "before_cursor_execute", on_execute)


async def test_a_point_lookup_costs_its_queries_plus_one_statement_and_the_audit_row(
    acme: Client, statements: list[str], backend: str
) -> None:
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})  # warm: the pool has its connection
    statements.clear()

    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})

    # The company (PostgreSQL: entered in the same statement), the expense with its approval requests,
    # their decisions; then the audit row, in the call's transaction, one statement (PostgreSQL: the
    # function that writes it for the entered company, as its owner, without the wait for the WAL flush).
    postgresql = backend == "postgresql"
    assert [statement.split()[0] for statement in statements] == ["SELECT"] * (3 + postgresql) + [
        "INSERT"
    ] * (not postgresql)
    assert statements[0].startswith("SELECT c.id, c.slug, c.name, c.currency")
    assert ("set_config('role'" in statements[0]) == postgresql
    if postgresql:
        assert statements[-1].startswith("SELECT outlay_record_call($1, $2,")
    else:
        assert statements[-1].startswith("INSERT INTO audit_events")


async def test_a_connection_closed_while_idle_costs_neither_the_call_nor_its_audit_row(
    acme: Client, world_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server to close the connection")
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    # What a restart does to the pooled connections: the server ends them while they idle.
    ended = await raw(
        world_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    assert ended
    assert all(ok for (ok,) in ended)
    await asyncio.sleep(0.2)  # the client side notices the closed sockets

    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    await call_error(acme, "get_expense", {"expense_id": "EXP-999999"})

    assert await raw(world_url, "SELECT outcome FROM audit_events ORDER BY id") == [
        ("ok",),
        ("ok",),
        ("not_found",),
    ]


async def test_an_audit_row_whose_pooled_connection_was_closed_goes_out_on_a_new_one(
    world_url: str, backend: str, anyio_backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server to close the connection")
    engine = create_engine(world_url)
    row = {
        "at": utcnow(),
        "subject": "local",
        "company": "acme",
        "kind": "tool",
        "name": "get_expense",
        "arguments_sha256": "-",
        "outcome": "ok",
        "latency_ms": 1.0,
        "trace_id": None,
        "changes": None,
    }
    try:
        async with engine.connect() as connection:  # the pool now holds one connection
            [(pid,)] = (await connection.execute(text("SELECT pg_backend_pid()"))).all()
        assert await raw(world_url, "SELECT pg_terminate_backend(:pid)", pid=pid) == [(True,)]
        await asyncio.sleep(0.2)
        await append(create_session_factory(engine), row)
    finally:
        await engine.dispose()

    assert await raw(world_url, "SELECT name, outcome FROM audit_events") == [("get_expense", "ok")]

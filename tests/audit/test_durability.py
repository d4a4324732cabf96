"""What the audit guarantees (docs/operations.md, "Audit trail"): a call that ends well writes its row in
its own transaction, so a change and the row of the call that made it commit or roll back together; on
PostgreSQL a call that changed nothing commits without waiting for the WAL flush, a call that changed
something as configured; a call that failed gets its row afterwards, in a transaction of its own; and a
change whose row cannot be written is not made."""

# No `from __future__ import annotations`: the SDK evaluates the probe tools' signatures.
from collections.abc import AsyncIterator, Iterator

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from server.audit import changes
from server.calls import tool_call
from server.context import AppContext
from server.settings import Settings
from tests.world import build, call_error, call_ok, connect, execute, raw

pytestmark = pytest.mark.anyio


async def change(ctx: Context[AppContext], fail: bool = False) -> str:
    """A write: one row of data changes (which the tool-call role may insert); `fail` raises after it."""
    async with tool_call(ctx, "change") as call:
        details = [{"table": "probe", "key": "1", "before": None, "after": "written"}]
        await changes.record(
            call.session, call.caller.company_id, actor="probe", action="probe", details=details
        )
        if fail:
            raise RuntimeError("a bug after the write")
    return "changed"


@pytest.fixture
async def acme(world_url: str, anyio_backend: str) -> AsyncIterator[Client]:
    server: MCPServer[AppContext] = build(world_url, "acme")
    server.tool()(change)
    async with connect(server, "auto") as client:
        yield client


@pytest.fixture
def commits(backend: str) -> Iterator[list[tuple[str, str]]]:
    """(role, synchronous_commit) at every COMMIT a PostgreSQL connection sends while the test runs."""
    seen: list[tuple[str, str]] = []

    def on_commit(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            found = connection.exec_driver_sql("SELECT current_user, current_setting('synchronous_commit')")
            role, synchronous = found.one()
            seen.append((str(role), str(synchronous)))

    event.listen(Engine, "commit", on_commit)
    yield seen
    event.remove(Engine, "commit", on_commit)


async def test_a_reads_row_is_in_the_trail_after_the_call(acme: Client, world_url: str, backend: str) -> None:
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    await acme.read_resource("outlay://categories")

    assert await raw(
        world_url, "SELECT kind, name, outcome, call_id IS NOT NULL FROM audit_events ORDER BY id"
    ) == [
        ("tool", "get_expense", "ok", True),
        ("resource", "outlay://categories", "ok", True),
    ]


async def test_a_write_and_its_row_commit_together(acme: Client, world_url: str) -> None:
    assert (await acme.call_tool("change", {})).is_error is False

    [(call_id, outcome)] = await raw(world_url, "SELECT call_id, outcome FROM audit_events")
    assert outcome == "ok"
    assert await raw(world_url, "SELECT call_id, action FROM data_changes WHERE actor = 'probe'") == [
        (call_id, "probe")
    ]


async def test_a_write_that_fails_rolls_back_with_its_row_and_the_failure_is_audited_apart(
    acme: Client, world_url: str
) -> None:
    await call_error(acme, "change", {"fail": True})

    assert await raw(world_url, "SELECT name, outcome FROM audit_events") == [("change", "error")]
    assert await raw(world_url, "SELECT count(*) FROM data_changes WHERE actor = 'probe'") == [(0,)]


# A trail that refuses the probe's rows, as a database that cannot take them would.
REFUSE_ROWS = {
    "sqlite": [
        "CREATE TRIGGER refuse_probe_rows BEFORE INSERT ON audit_events WHEN NEW.name = 'change'"
        " BEGIN SELECT RAISE(ABORT, 'no room for this row'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_probe_rows() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'no room for this row'; END $$",
        "CREATE TRIGGER refuse_probe_rows BEFORE INSERT ON audit_events FOR EACH ROW"
        " WHEN (NEW.name = 'change') EXECUTE FUNCTION refuse_probe_rows()",
    ],
}


async def test_a_change_whose_row_cannot_be_written_is_not_made(
    acme: Client, world_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    for statement in REFUSE_ROWS[backend]:
        await execute(world_url, statement)

    await call_error(acme, "change", {})

    assert await raw(world_url, "SELECT count(*) FROM data_changes WHERE actor = 'probe'") == [(0,)]
    assert await raw(world_url, "SELECT count(*) FROM audit_events") == [(0,)]
    # The failure's own row was refused too: the server says so, with the event, at error level.
    assert [r.getMessage() for r in caplog.records if r.name == "outlay.audit"] == ["audit event not written"]


async def test_only_the_rows_of_calls_that_changed_nothing_skip_the_wait_for_the_wal_flush(
    acme: Client, world_url: str, backend: str, commits: list[tuple[str, str]]
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no synchronous_commit")
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    read = list(commits)
    commits.clear()
    assert (await acme.call_tool("change", {})).is_error is False

    # Both transactions commit as the tool-call role: its rows went through `outlay_record_call`, which
    # writes as its owner (the tool-call role may not write the trail itself: tests/audit/test_record_call).
    role = Settings().tenant_role
    assert read == [(role, "off")]
    assert commits == [(role, "on")]
